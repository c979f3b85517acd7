"""The kfp SDK in a virtual environment of its own (bench/.kfp-venv), made on first use.

kfp 2.17 pins ``kubernetes<31`` and the Kubernetes provider needs ``kubernetes>=36``, so kfp can never
share the project's environment. The newest kfp wheel needs a certifi release the index lacks, so
the version is pinned to the one pip falls back to anyway.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench._common import BENCH

KFP_VERSION = "2.17.0"
VENV = BENCH / ".kfp-venv"


def _python() -> Path:
    return VENV / "bin" / "python"


def _has_kfp() -> bool:
    if not _python().exists():
        return False
    res = subprocess.run(
        [str(_python()), "-c", "import kfp, pip; print(kfp.__version__)"], capture_output=True, text=True
    )
    return res.returncode == 0 and res.stdout.strip() == KFP_VERSION


def ensure() -> Path:
    """The venv's python, creating the venv if needed. Needs PyPI the first time (~10 s with uv).

    The venv must have pip: kfp's components run ``pip install kfp`` before the user's code, even
    when the package is already there.
    """
    if _has_kfp():
        return _python()
    uv = Path(sys.executable).parent / "uv"
    if VENV.exists():
        shutil.rmtree(VENV)
    if uv.exists():
        cmds = [
            [str(uv), "venv", "--quiet", "--seed", str(VENV), "--python", sys.executable],
            [str(uv), "pip", "install", "--quiet", "--python", str(_python()), f"kfp=={KFP_VERSION}"],
        ]
    else:
        cmds = [
            [sys.executable, "-m", "venv", str(VENV)],
            [str(_python()), "-m", "pip", "install", "--quiet", f"kfp=={KFP_VERSION}"],
        ]
    for cmd in cmds:
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr[-2000:]}")
    if not _has_kfp():
        raise RuntimeError(f"kfp {KFP_VERSION} did not install into {VENV}")
    return _python()
