"""Worker process for the kfp SDK's own local runner; runs inside bench/.kfp-venv.

Imports only the standard library, kfp and ``bench._protocol`` (standard library too): kfp cannot be
installed beside the Kubernetes provider (it pins ``kubernetes<31``), so this side has its own
environment. The pipeline is the same chain as ``bench.dagfiles.kfp_chain``. No ``from __future__
import annotations`` here: kfp reads the components' annotations as types, not strings.
"""

import os
import sys
import tempfile
import time
import warnings
from typing import Any

from bench._protocol import serve

warnings.filterwarnings("ignore", category=FutureWarning)  # kfp's notice about its default base image

from kfp import dsl, local  # noqa: E402

STEPS = int(os.environ.get("BENCH_STEPS", "10"))


@dsl.component
def step(x: int) -> int:
    return x + 1


@dsl.pipeline(name="bench-chain-kfp-local")
def chain(start: int = 0) -> int:
    t = step(x=start)
    for _ in range(STEPS - 1):
        t = step(x=t.output)
    return t.output  # type: ignore[no-any-return]


@dsl.pipeline(name="bench-warmup-kfp-local")
def warmup(start: int = 0) -> int:
    return step(x=start).output  # type: ignore[no-any-return]


def run(command: dict[str, Any]) -> dict[str, Any]:
    """One pipeline run; ``caching`` uses ``cache_root``, shared between calls to give hits."""
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=tempfile.mkdtemp(prefix="kfp-local-root-"),
        enable_caching=bool(command.get("caching")),
        cache_root=command.get("cache_root"),
    )
    pipeline = warmup if command.get("warmup") else chain
    start = time.perf_counter()
    result = pipeline()
    seconds = time.perf_counter() - start
    expected = 1 if command.get("warmup") else STEPS
    value = getattr(result, "output", result)
    if value != expected:
        raise RuntimeError(f"pipeline returned {value!r}, expected {expected}")
    return {"seconds": seconds, "kfp_python": sys.executable}


if __name__ == "__main__":
    serve({"run": run})
