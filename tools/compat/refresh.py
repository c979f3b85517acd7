"""Regenerate the compatibility fixtures (and the loader tests' compiled fixtures in
``tests/yaml/fixtures``) with the real kfp SDK: ``make compat-refresh``.

Runs in the project's environment but never imports kfp: it creates (or reuses) the separate kfp
virtual environment of ``bench/kfp_venv.py``, adds kfp-kubernetes to it, and runs
``kfp_worker.py`` there once per pipeline in ``tests/compat/pipelines`` (or the names given):

    python -m tools.compat.refresh [NAME ...]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
COMPAT = REPO / "tests" / "compat"
KFP_KUBERNETES_VERSION = "2.17.0"
NOTEBOOK_PACKAGES = ["nbclient>=0.10,<1", "ipykernel>=6,<7", "jupyter_client>=7,<9"]
"""KFP's default packages of a notebook component."""


def kfp_python() -> Path:
    sys.path.insert(0, str(REPO))
    from bench import kfp_venv

    python = kfp_venv.ensure()
    check = subprocess.run([str(python), "-c", "import kfp.kubernetes, nbclient, ipykernel"], capture_output=True)
    if check.returncode != 0:
        uv = Path(sys.executable).parent / "uv"
        installer = (
            [str(uv), "pip", "install", "--python", str(python)]
            if uv.exists()
            else [str(python), "-m", "pip", "install"]
        )
        # nbclient and ipykernel: kfp.local runs the notebook_component pipeline in this environment
        packages = [f"kfp-kubernetes=={KFP_KUBERNETES_VERSION}", *NOTEBOOK_PACKAGES]
        subprocess.run([*installer, "--quiet", *packages], check=True)
    return python


def main(argv: list[str]) -> int:
    python = kfp_python()
    names = argv or sorted(p.stem for p in (COMPAT / "pipelines").glob("*.py") if not p.stem.startswith("_"))
    failed = []
    for name in names:
        print(f"compat: {name}", flush=True)
        result = subprocess.run(
            [str(python), str(HERE / "kfp_worker.py"), name, str(COMPAT / "fixtures")],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            failed.append(name)
            print(result.stdout[-2000:], result.stderr[-4000:], sep="\n", file=sys.stderr)
    if not argv:
        for source in sorted((REPO / "tests" / "yaml" / "fixtures").glob("*.py")):
            print(f"loader fixture: {source.stem}", flush=True)
            module = f"tests.yaml.fixtures.{source.stem}"
            result = subprocess.run(
                [str(python), str(HERE / "kfp_worker.py"), "--compile-only", module, str(source.parent)],
                cwd=REPO,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                failed.append(source.stem)
                print(result.stderr[-4000:], file=sys.stderr)
    if failed:
        print(f"compat: failed to refresh {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
