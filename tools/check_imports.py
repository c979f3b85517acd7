"""Names are imported from the module that defines them, not from one that re-exports them.

``python -m tools.check_imports`` lists every ``from airflow_kfp.M import name`` (in airflow_kfp/,
tests/, bench/, dags_examples/, tools/) where ``M`` only imports ``name`` from elsewhere; ``--fix``
rewrites each to the defining module. The public faces (``airflow_kfp``, ``dsl``, ``kubernetes``, ``errors``,
``components``, ``compiler``, ``v2``) re-export on purpose and are exempt.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "airflow_kfp"
SCANNED = ("airflow_kfp", "tests", "bench", "dags_examples", "tools")
PUBLIC_FACES = {
    "airflow_kfp",
    "airflow_kfp.dsl",
    "airflow_kfp.dsl.types",
    "airflow_kfp.dsl.types.artifact_types",
    "airflow_kfp.kubernetes",
    "airflow_kfp.local",
    "airflow_kfp.client",
    "airflow_kfp.registry",
    "airflow_kfp.components",
    "airflow_kfp.compiler",
    "airflow_kfp.errors",
    "airflow_kfp.v2",
    "airflow_kfp.v2.dsl",
    "airflow_kfp.v2.compiler",
    "airflow_kfp.v2.components",
}


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    module: str
    name: str
    definer: str

    def __str__(self) -> str:
        rel = self.path.relative_to(ROOT)
        return (
            f"{rel}:{self.line}: import {self.name} from {self.definer}, not from {self.module} (which re-exports it)"
        )


def module_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in (ROOT / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _top_level(tree: ast.Module) -> list[ast.stmt]:
    """Statements at module level, including those under ``try``/``if`` (not ``if TYPE_CHECKING``)."""
    out: list[ast.stmt] = []
    todo = list(tree.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, ast.If):
            if "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            todo[:0] = [*node.body, *node.orelse]
        elif isinstance(node, ast.Try):
            todo[:0] = [*node.body, *node.orelse, *node.finalbody, *(s for h in node.handlers for s in h.body)]
        else:
            out.append(node)
    return out


class Index:
    def __init__(self) -> None:
        self.files = module_files()
        self._defined: dict[str, set[str]] = {}
        self._imported: dict[str, dict[str, tuple[str, str]]] = {}

    def _read(self, module: str) -> None:
        if module in self._defined:
            return
        tree = ast.parse(self.files[module].read_text())
        defined: set[str] = set()
        imported: dict[str, tuple[str, str]] = {}
        for node in _top_level(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    defined.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    imported[alias.asname or alias.name] = (node.module, alias.name)
        self._defined[module] = defined
        self._imported[module] = imported

    def definer(self, module: str, name: str, depth: int = 0) -> str | None:
        """The module defining ``name`` as seen from ``module``, or None when ``module`` defines it
        (or it cannot be followed: a submodule, a name from outside the package)."""
        if module not in self.files or f"{module}.{name}" in self.files or depth > 20:
            return None
        self._read(module)
        if name in self._defined[module] or name not in self._imported[module]:
            return None
        source, original = self._imported[module][name]
        if not source.startswith(PACKAGE) or source not in self.files or original != name:
            return None
        return self.definer(source, name, depth + 1) or source


def findings(index: Index) -> list[Finding]:
    out: list[Finding] = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if ".venv" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0):
                    continue
                if not node.module.startswith(PACKAGE) or node.module in PUBLIC_FACES:
                    continue
                for alias in node.names:
                    definer = index.definer(node.module, alias.name)
                    if definer is not None:
                        out.append(Finding(path, node.lineno, node.module, alias.name, definer))
    return out


def fix(found: list[Finding]) -> None:
    """Move each name to an import of its defining module (ruff's isort then orders the lines)."""
    by_path: dict[Path, list[Finding]] = {}
    for f in found:
        by_path.setdefault(f.path, []).append(f)
    for path, items in by_path.items():
        source = path.read_text()
        tree = ast.parse(source)
        lines = source.splitlines(keepends=True)
        edits: list[tuple[int, int, str]] = []
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0):
                continue
            moved = {f.name: f.definer for f in items if f.line == node.lineno and f.module == node.module}
            if not moved:
                continue
            indent = lines[node.lineno - 1][: len(lines[node.lineno - 1]) - len(lines[node.lineno - 1].lstrip())]
            keep = [a for a in node.names if a.name not in moved]
            groups: dict[str, list[ast.alias]] = {}
            for a in node.names:
                if a.name in moved:
                    groups.setdefault(moved[a.name], []).append(a)

            def spell(module: str, names: list[ast.alias], indent: str = indent) -> str:
                return f"{indent}from {module} import " + ", ".join(
                    a.name + (f" as {a.asname}" if a.asname else "") for a in names
                )

            new = ([spell(node.module, keep)] if keep else []) + [spell(m, ns) for m, ns in groups.items()]
            end = node.end_lineno or node.lineno
            tail = lines[end - 1].rstrip("\n")
            comment = tail[tail.index("#") :] if "#" in tail.split(")")[-1] else ""
            text = "\n".join(new) + (f"  {comment}" if comment else "") + "\n"
            edits.append((node.lineno - 1, end, text))
        for start, end, text in sorted(edits, reverse=True):
            lines[start:end] = [text]
        path.write_text("".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix", action="store_true", help="rewrite the imports to the defining modules")
    args = parser.parse_args(argv)
    found = findings(Index())
    if args.fix and found:
        fix(found)
        found = findings(Index())
    for f in found:
        print(f)
    if found:
        print(f"{len(found)} name(s) imported from a module that re-exports them", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
