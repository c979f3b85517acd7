"""A component's source is what ``inspect.getsourcelines`` finds, however the file is laid out.

``_file_block`` finds it without tokenizing (issue 15: parse time); the source is part of the
pipeline's digest and of the cache key, so every layout below must give inspect's lines exactly,
or fall back to inspect.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

import pytest

from airflow_kfp.dsl.components import _file_block, _located_source, function_source

LAYOUTS = '''
import functools


def deco(*args, **kwargs):
    def wrap(f):
        return f
    return wrap if not args or not callable(args[0]) else args[0]


def plain(x: int) -> int:
    return x + 1


@deco
def decorated(x: int) -> int:
    """Doc."""
    return x


@deco(
    base_image="python:3.11",
)
def decorator_with_args(x: int) -> int:
    return x


def long_signature(
    x: int,
    y: int = 2,
) -> int:
    return x + y


def trailing_comments(x: int) -> int:
    if x:
        return 1
    return 2
    # still the function's (indented as its body)
# not the function's


def text_at_column_zero() -> str:
    text = """
first
second
"""
    return text


def brackets_at_column_zero() -> list[int]:
    return [
1,
2,
]


def continued(x: int) -> int:
    return x + \\
        1


def one_liner(x: int) -> int: return x


async def coroutine(x: int) -> int:
    return x


@deco

def blank_after_decorator(x: int) -> int:
    return x


class Holder:
    @staticmethod
    def method(x: int) -> int:
        return x

    def other(self) -> int:
        return 1


def outer() -> object:
    def inner(x: int) -> int:
        # a comment
        return x

    return inner


@functools.wraps(plain)
def wrapped(x: int) -> int:
    return x


def last_in_file(x: int) -> int:
    return x
    # end
'''


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    path = Path(tmp_path_factory.mktemp("src")) / "kfp_source_layouts.py"
    path.write_text(LAYOUTS)
    spec = importlib.util.spec_from_file_location("kfp_source_layouts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def _functions(module: ModuleType) -> list[object]:
    names = [
        "plain",
        "decorated",
        "decorator_with_args",
        "long_signature",
        "trailing_comments",
        "text_at_column_zero",
        "brackets_at_column_zero",
        "continued",
        "one_liner",
        "coroutine",
        "wrapped",
        "last_in_file",
    ]
    return [
        *(getattr(module, n) for n in names),
        module.Holder.method,
        module.Holder.other,
        module.outer(),
    ]


def test_every_layout_gives_inspects_lines(layouts: ModuleType) -> None:
    for func in _functions(layouts):
        lines, start = inspect.getsourcelines(func)  # type: ignore[arg-type]
        found = _file_block(func)  # type: ignore[arg-type]
        if found is not None:
            assert (found[0], found[1]) == (lines, start), func
        assert function_source(func).startswith(("def ", "async def "))  # type: ignore[arg-type]


def test_the_fast_path_covers_the_common_layouts(layouts: ModuleType) -> None:
    """The layouts a DAG file has (decorators, long signatures, comments) need no tokenizing."""
    for name in ("plain", "decorated", "decorator_with_args", "long_signature", "trailing_comments", "coroutine"):
        assert _file_block(getattr(layouts, name)) is not None, name
    assert _file_block(layouts.Holder.method) is not None


def test_inspects_exceptions_fall_back(layouts: ModuleType) -> None:
    """Where inspect's rule is irregular, inspect answers (same source as before)."""
    assert _file_block(layouts.one_liner) is None
    assert _file_block(layouts.blank_after_decorator) is None
    assert _file_block(layouts.text_at_column_zero) is None
    assert function_source(layouts.text_at_column_zero).endswith('second\n"""\n    return text\n')


def test_source_starts_at_def_and_locates_it(layouts: ModuleType) -> None:
    source, location = _located_source(layouts.decorator_with_args)
    assert source == "def decorator_with_args(x: int) -> int:\n    return x\n"
    def_line = LAYOUTS.splitlines().index("def decorator_with_args(x: int) -> int:") + 1
    assert location is not None and location.first_line == def_line
    trailing = function_source(layouts.trailing_comments)
    assert trailing.endswith("    # still the function's (indented as its body)\n")
