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


def cache_entry_uri(store: ArtifactStore, component: str, key: str) -> str:
    """``<root>/.cache/<component>/<key>.json``: one entry per key, grouped by component."""
    return store.uri_for(INDEX_FOLDER, encode_segment(component), encode_segment(f"{key}.json"))
