"""``@dsl.component(embedded_artifact_path=...)``: files shipped inside the component's source.

As in KFP, the file or folder is packed into a gzip'd tar, base64-encoded into a small prelude of the
component's source; at run time the prelude extracts it into a temporary folder, puts that folder on
``sys.path`` and names it in ``__KFP_EMBEDDED_ASSET_DIR`` (and ``__KFP_EMBEDDED_ASSET_FILE`` for a
single file), which the executor gives to ``dsl.EmbeddedInput[...]`` arguments. The same globals are
what components compiled by the kfp SDK carry, so both run through one executor path. Because the
archive is part of the source, it is part of the cache key: changed files mean a new key.
"""

from __future__ import annotations

import base64
import gzip
import io
import tarfile
import warnings
from pathlib import Path

LARGE_ARCHIVE_BYTES = 1024 * 1024


class EmbeddedArtifactError(ValueError):
    """The embedded path cannot be packed (missing, or a link leaving the folder)."""


def _add(tar: tarfile.TarFile, root: Path) -> None:
    """Pack ``root``; links are followed only when they stay inside it, so nothing outside leaks in."""
    resolved_root = root.resolve()
    if resolved_root.is_file():
        tar.add(str(resolved_root), arcname=root.name)
        return
    if not resolved_root.is_dir():
        raise EmbeddedArtifactError(f"embedded_artifact_path {str(root)!r} does not exist")
    stack: list[tuple[Path, str]] = [(resolved_root, ".")]
    while stack:
        current, arcname = stack.pop()
        try:
            resolved = current.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise EmbeddedArtifactError(f"embedded_artifact_path: broken or looping link {current}") from exc
        if resolved != resolved_root and not resolved.is_relative_to(resolved_root):
            raise EmbeddedArtifactError(f"embedded_artifact_path: {current} points outside {resolved_root}")
        if resolved.is_dir():
            if current != resolved and current != resolved_root:
                raise EmbeddedArtifactError(f"embedded_artifact_path: folder links are not followed ({current})")
            tar.add(str(resolved), arcname=arcname, recursive=False)
            for child in sorted(resolved.iterdir(), reverse=True):
                stack.append((child, child.name if arcname == "." else f"{arcname}/{child.name}"))
        elif resolved.is_file():
            tar.add(str(resolved), arcname=arcname)
        else:
            raise EmbeddedArtifactError(f"embedded_artifact_path: {current} is neither a file nor a folder")


def _archive(path: Path) -> str:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, path)
    # mtime=0: the same files give the same bytes, hence the same source and cache key.
    compressed = gzip.compress(buffer.getvalue(), mtime=0)
    if len(compressed) > LARGE_ARCHIVE_BYTES:
        warnings.warn(
            f"embedded_artifact_path {str(path)!r} packs to {len(compressed) / 1024 / 1024:.1f} MB; large files "
            f"belong in the image or an artifact store (dsl.importer).",
            UserWarning,
            stacklevel=4,
        )
    return base64.b64encode(compressed).decode("ascii")


_PRELUDE = """__KFP_EMBEDDED_ARCHIVE_B64 = {archive!r}


def __kfp_extract_embedded():
    import base64
    import io
    import sys
    import tarfile
    import tempfile

    folder = tempfile.mkdtemp(prefix="kfp-embedded-")
    data = io.BytesIO(base64.b64decode(__KFP_EMBEDDED_ARCHIVE_B64))
    with tarfile.open(fileobj=data, mode="r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(folder, filter="data")
        else:  # Python without extraction filters: the archive was checked when it was packed
            tar.extractall(folder)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return folder


__KFP_EMBEDDED_ASSET_DIR = __kfp_extract_embedded()
"""


def archive_prelude(archive: str) -> str:
    """The prelude for a base64 gzip'd tar (also a compiled notebook component's, see kfp_yaml/python_function.py)."""
    return _PRELUDE.format(archive=archive)


def embedded_prelude(path: str, name_file: bool = True) -> str:
    """Source to put before the component's function: extracts the files when the module loads.
    ``name_file=False``: the caller names the file itself (a notebook component names its notebook)."""
    source_path = Path(path)
    if not source_path.exists():
        raise EmbeddedArtifactError(f"embedded_artifact_path {path!r} does not exist")
    prelude = archive_prelude(_archive(source_path))
    if name_file and source_path.resolve().is_file():
        prelude += f"__KFP_EMBEDDED_ASSET_FILE = __KFP_EMBEDDED_ASSET_DIR + '/' + {source_path.name!r}\n"
    return prelude + "\n\n"
