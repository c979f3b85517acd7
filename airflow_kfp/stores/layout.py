"""Where things live in an artifact store, and the one encoding of names into key segments.

Every name that becomes part of a path or an S3 key (pipeline, DAG id, run id, task id, map index,
output name, component name) goes through :func:`encode_segment`, which is lossless and injective:

- ``[A-Za-z0-9_-]`` and ``.`` (except as a first character) are kept, so common names stay readable;
  every other character is written ``=XX`` per UTF-8 byte (``=`` itself too). ``a:b`` becomes
  ``a=3Ab`` while ``a_b`` stays ``a_b``: they cannot collide.
- ``=`` is a character a URI path may hold as it is (RFC 3986 ``pchar``), so an artifact's URI is its
  path or key verbatim: ``file://`` URIs decode (RFC 8089) to the file and ``s3://`` URIs to the key,
  whether a tool percent-decodes them (urllib, fsspec, OpenLineage consumers) or not (boto3, the AWS
  CLI). Runs stored before this (folders spelled ``a%3Ab``) are still read: their manifests name the
  literal path, which the stores try when the decoded one does not exist (``stores.local``).
- A leading ``.`` is escaped, so no segment is ``.`` or ``..``, none is hidden, and no name can
  collide with the store's own folders (``.cache``) or temporaries. Separators (``/``, ``\\``), NUL and
  the empty name are escaped or spelled ``=``, so a segment is never a separator or an absolute path.
- A segment longer than :data:`MAX_SEGMENT` keeps its first characters and ends in ``~`` plus 128
  bits of the full name's SHA-256 (``~`` never appears in a short encoding), so file-system and S3 key
  limits hold and distinct names stay distinct.

Artifacts of one task try live at
``<root>/<pipeline>/<dag_id>/<run_id>/<task_id>/<map_index>/try-<n>-<ti id>/<output>``: unique per
DAG run (two DAGs from one pipeline share nothing) and per try (Airflow gives every try a new task
instance id), so a path that a manifest or a cache entry names is never written again.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_kfp.stores.artifact_store import ArtifactStore

MAX_SEGMENT = 100
"""Characters per segment: 8 segments plus a root stay under S3's 1024-byte key limit."""
_HASH_CHARS = 32
_SAFE = frozenset(string.ascii_letters + string.digits + "_-.")
ESCAPE = "="
"""Starts the ``=XX`` escape of one UTF-8 byte (``%`` before: such folders are still read)."""
INDEX_FOLDER = ".cache"
"""The cache index's folder under the root; no encoded name can be spelled so."""


def encode_segment(value: str | int) -> str:
    """``value`` as one safe, lossless path/key segment (see the module's docstring)."""
    text = str(value)
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in _SAFE and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.extend(f"{ESCAPE}{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
    encoded = "".join(out) or ESCAPE
    if len(encoded) <= MAX_SEGMENT:
        return encoded
    head = encoded[: MAX_SEGMENT - _HASH_CHARS - 1]
    cut = head.rfind(ESCAPE, len(head) - 2)  # never split an =XX escape
    if cut >= 0:
        head = head[:cut]
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    return f"{head}~{digest}"


@dataclass(frozen=True)
class TaskTry:
    """One try of one task instance: everything that makes its artifact prefix unique."""

    pipeline: str
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    try_number: int = 1
    ti_id: str = ""
    """Airflow's id of this try (a new UUID per try): a run deleted and re-created under the same
    run id, whose tries start again at 1, still writes to new paths."""

    def segments(self) -> list[str]:
        attempt = f"try-{int(self.try_number)}" + (f"-{encode_segment(self.ti_id)}" if self.ti_id else "")
        return [
            encode_segment(self.pipeline),
            encode_segment(self.dag_id),
            encode_segment(self.run_id),
            encode_segment(self.task_id),
            encode_segment(self.map_index if self.map_index is not None else -1),
            attempt,
        ]

    def prefix(self, store: ArtifactStore) -> str:
        """The folder (key prefix) that holds this try's outputs."""
        return store.uri_for(*self.segments())

    def output_uri(self, store: ArtifactStore, output: str) -> str:
        return store.uri_for(*self.segments(), encode_segment(output))

    def run_prefix(self, store: ArtifactStore) -> str:
        """The folder holding every output of this DAG run: the run's own output location."""
        return store.uri_for(*self.segments()[:3])

    def task_prefix(self, store: ArtifactStore) -> str:
        """The folder holding every try of this task instance."""
        return store.uri_for(*self.segments()[:-1])


def cache_entry_uri(store: ArtifactStore, scope: str, pipeline: str, component: str, key: str) -> str:
    """``<root>/.cache/<scope>/<pipeline>/<component>/<key>.json``: one entry per key, visible only
    to runs of the same pipeline in the same cache scope (``cache.index.scope_of``)."""
    return store.uri_for(
        INDEX_FOLDER,
        encode_segment(scope),
        encode_segment(pipeline),
        encode_segment(component),
        encode_segment(f"{key}.json"),
    )


LEGACY_ESCAPE = "%"
"""The escape character of folders written before ``=`` (``a%3Ab``): still recognised as their owner's."""


def _spellings(name: str | int) -> set[str]:
    """Every segment ``name`` is stored under: today's encoding and the one of earlier versions."""
    current = encode_segment(name)
    return {current, current.replace(ESCAPE, LEGACY_ESCAPE)} if "~" not in current else {current}


def _decode_with(segment: str, escape: str) -> str | None:
    if segment == escape:
        return ""
    out = bytearray()
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == escape:
            pair = segment[i + 1 : i + 3]
            if len(pair) != 2 or any(c not in string.hexdigits for c in pair):
                return None
            out.append(int(pair, 16))
            i += 3
            continue
        if ch not in _SAFE:
            return None
        out.extend(ch.encode())
        i += 1
    try:
        return out.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None


def decode_segment(segment: str) -> str | None:
    """The name :func:`encode_segment` made ``segment`` from (today's ``=`` escapes or an earlier
    version's ``%``); None for a shortened (hashed) segment or one no name encodes to, whose owner is
    found by encoding candidate names instead (:meth:`StoredPlace.owned_by`)."""
    if "~" in segment or not segment:
        return None
    for escape in (ESCAPE, LEGACY_ESCAPE):
        name = _decode_with(segment, escape)
        if name is not None and segment in _spellings(name):
            return name
    return None


OWN_FOLDER_DEPTH = 2
"""``<pipeline>/<dag_id>``: the first folder that belongs to one DAG (its runs are below)."""
TRY_DEPTH = 6
"""``<pipeline>/<dag_id>/<run_id>/<task_id>/<map_index>/try-<n>-<id>``: one try's output folder."""


@dataclass(frozen=True)
class StoredPlace:
    """Where a URI lies inside an artifact root, as the layout's segments (still encoded).

    The layout encodes the producing DAG and run losslessly, so a URI in the store names its owner:
    ``dag_segment`` is the DAG whose runs wrote it. A place with ``.``/``..``/empty segments, the cache
    index, or a folder above one DAG's (the root itself, a pipeline's folder that holds several DAGs)
    belongs to no single DAG: ``dag_segment`` is None.
    """

    root: str
    segments: tuple[str, ...]

    @property
    def well_formed(self) -> bool:
        return all(s not in ("", ".", "..") and "\0" not in s for s in self.segments)

    @property
    def in_index(self) -> bool:
        return bool(self.segments) and self.segments[0] == INDEX_FOLDER

    @property
    def dag_segment(self) -> str | None:
        if not self.well_formed or self.in_index or len(self.segments) < OWN_FOLDER_DEPTH:
            return None
        return self.segments[1]

    @property
    def run_segment(self) -> str | None:
        return self.segments[2] if self.dag_segment is not None and len(self.segments) > 2 else None

    def dag_id(self) -> str | None:
        """The owning DAG's id when its segment decodes (not a shortened one)."""
        return decode_segment(self.dag_segment) if self.dag_segment is not None else None

    def owned_by(self, dag_id: str) -> bool:
        return self.dag_segment is not None and self.dag_segment in _spellings(dag_id)

    def in_task_folder(
        self, dag_id: str, run_id: str, task_id: str, map_index: int, *, pipeline: str | None = None
    ) -> bool:
        """True when the place is inside one try folder of that task instance (what it may have
        written); ``pipeline`` None accepts any pipeline folder (the DAG's own, whichever it is)."""
        names: list[str | int] = [dag_id, run_id, task_id, map_index]
        return (
            self.well_formed
            and len(self.segments) > TRY_DEPTH
            and (pipeline is None or self.segments[0] in _spellings(pipeline))
            and all(seg in _spellings(name) for seg, name in zip(self.segments[1 : TRY_DEPTH - 1], names, strict=True))
            and self.segments[TRY_DEPTH - 1].startswith("try-")
        )


def _local_real(path: str) -> str:
    import os

    return os.path.realpath(path)


def place_in_root(uri: str, root: str) -> StoredPlace | None:
    """Where ``uri`` lies under the artifact ``root`` (a store's root URI, file:// or s3://, or a plain
    path), or None when it is not under it. Local paths are compared after resolving symbolic links
    and ``..`` (what a read would open); S3 keys are compared as written, segment by segment."""
    if uri.startswith("s3://") or root.startswith("s3://"):
        if not (uri.startswith("s3://") and root.startswith("s3://")):
            return None
        base = root.rstrip("/") + "/"
        bucket_only = root[len("s3://") :].strip("/").count("/") == 0
        if bucket_only:
            base = "s3://" + root[len("s3://") :].strip("/") + "/"
        if not uri.startswith(base):
            return None
        rel = uri[len(base) :]
        return StoredPlace(root, tuple(rel.rstrip("/").split("/")) if rel.strip("/") else ())
    if "://" in uri and not uri.startswith("file://"):
        return None
    if "://" in root and not root.startswith("file://"):
        return None

    def path_of(value: str) -> str:
        from airflow_kfp.stores.local import file_uri_path  # what the local store opens for this URI

        return _local_real(file_uri_path(value) if value.startswith("file://") else value)

    path, base_path = path_of(uri), path_of(root)
    if path == base_path:
        return StoredPlace(root, ())
    prefix = base_path.rstrip("/") + "/"
    if not path.startswith(prefix):
        return None
    return StoredPlace(root, tuple(path[len(prefix) :].rstrip("/").split("/")))


_TRY_SEGMENT = re.compile(r"^try-[0-9]+(-.+)?$")
_MAP_SEGMENT = re.compile(r"^-?[0-9]+$")


def place_by_shape(uri: str) -> StoredPlace | None:
    """Where ``uri`` lies in *some* artifact root, judged by the layout's shape alone
    (``.../<pipeline>/<dag_id>/<run_id>/<task_id>/<map_index>/try-<n>-<id>/<output>``): for roots this
    process is not configured with (another DAG's own ``artifact_root``). None when it has no such shape."""
    if uri.startswith("s3://"):
        parts = uri[len("s3://") :].split("/")
        prefix = "s3://"
    elif uri.startswith("file://") or "://" not in uri:
        from airflow_kfp.stores.local import file_uri_path

        parts = _local_real(file_uri_path(uri) if uri.startswith("file://") else uri).split("/")
        prefix = ""
    else:
        return None
    for i in range(len(parts) - 2, TRY_DEPTH - 2, -1):
        if _TRY_SEGMENT.match(parts[i]) and _MAP_SEGMENT.match(parts[i - 1]):
            base = i - (TRY_DEPTH - 1)
            if base >= 1:
                return StoredPlace(prefix + "/".join(parts[:base]), tuple(parts[base:]))
    return None
