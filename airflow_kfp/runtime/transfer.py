"""Large transfers between a pod and S3 through presigned URLs, standard library only, memory flat.

- Download: one GET streamed to disk in 1 MiB chunks; when the connection drops, the next attempt asks
  for the rest with ``Range: bytes=<received>-`` and goes on hashing where it stopped.
- Upload of a file output: S3 multipart. The worker started the upload and presigned ``UploadPart``
  URLs (one per part number; the size of a part is not signed, so the pod picks it: at least
  ``part_size``, larger when the file needs more parts than there are URLs, at most 5 GiB). Each part
  streams from the file with a known ``Content-Length``; a failed part is sent again from its offset.
- Spill: bytes no presigned part can take (a file inside a directory output larger than a part, whose
  name the worker could not know; a file beyond 32 parts of 5 GiB) are POSTed as part-sized *chunk
  objects* under the task's spill prefix, with the presigned POST form the worker made for that
  prefix. After the pod, the worker turns them into the parts of a multipart upload at the final key
  with server-side ``UploadPartCopy`` (no byte passes through the worker, and it need not be running
  while the pod runs: deferrable mode and reattach work) and deletes them. No count or size limit but
  S3's own (10,000 parts of 5 GiB).

The pod reports the parts' ETags and the spilled ranges; the worker completes the uploads, or aborts
them and deletes the chunks, so a partial object is never visible. The sha256 of each file is computed
while its bytes go out, once, in order, whatever the retries.
"""

from __future__ import annotations

import hashlib
import math
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

from airflow_kfp.runtime import transport

MIN_PART = 5 * 1024**2
MAX_PART = 5 * 1024**3
MAX_PARTS = 10_000
SPILL_DIGITS = 5
"""Chunk objects are named ``<spill prefix><file index>/<part number, 5 digits>``."""


def download(url: str, dest: str, uri: str) -> tuple[str, int]:
    """GET ``url`` into ``dest`` (via a temporary sibling), resuming after a dropped connection."""
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    tmp = f"{dest}.part-{uuid.uuid4().hex[:8]}"
    state: dict[str, Any] = {"h": hashlib.sha256(), "size": 0}

    def once() -> tuple[str, int]:
        headers = {"Range": f"bytes={state['size']}-"} if state["size"] else {}
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as resp:
            if state["size"] and resp.status != 206:  # the server ignored the range: start over
                state["h"], state["size"] = hashlib.sha256(), 0
                open(tmp, "wb").close()
            with open(tmp, "ab") as out:
                while chunk := resp.read(transport.CHUNK):
                    state["h"].update(chunk)
                    out.write(chunk)
                    state["size"] += len(chunk)
            if resp.status == 206:
                expected = resp.headers.get("Content-Range", "").rpartition("/")[2]
            else:
                expected = resp.headers.get("Content-Length", "")
        if expected.isdigit() and int(expected) != state["size"]:  # a short read is a dropped connection
            raise OSError(f"connection closed after {state['size']} of {expected} bytes")
        return state["h"].hexdigest(), state["size"]

    try:
        hexd, size = transport._retrying(f"downloading {uri}", once)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return hexd, size


def part_size(size: int, urls: int, configured: int) -> int:
    """Bytes per part: at least ``configured`` (and S3's 5 MiB); larger, up to 5 GiB, when the ``urls``
    presigned parts would not cover the file (spilling only beyond 32 parts of 5 GiB), and larger when the
    file needs more than S3's 10,000 parts."""
    part = max(min(configured, MAX_PART), MIN_PART, math.ceil(size / MAX_PARTS))
    if urls:
        part = max(part, min(math.ceil(size / urls), MAX_PART))
    if part > MAX_PART:
        raise transport.StagingError(
            f"{size} bytes is more than one S3 object holds (10,000 parts of 5 GiB); split the artifact into files"
        )
    return part


class Source:
    """A file sent in byte ranges: each byte is hashed once, in order, whatever the retries."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.size = os.path.getsize(path)
        self._h = hashlib.sha256()
        self._hashed = 0

    def chunks(self, start: int, length: int) -> Iterator[bytes]:
        with open(self.path, "rb") as fh:
            fh.seek(start)
            left = length
            while left > 0:
                chunk = fh.read(min(transport.CHUNK, left))
                if not chunk:
                    raise OSError(f"{self.path} shrank while it was uploaded")
                offset = start + length - left
                if offset <= self._hashed < offset + len(chunk):
                    self._h.update(memoryview(chunk)[self._hashed - offset :])
                    self._hashed = offset + len(chunk)
                left -= len(chunk)
                yield chunk

    def hexdigest(self) -> str:
        if self._hashed != self.size:
            raise transport.StagingError(f"{self.path}: only {self._hashed} of {self.size} bytes were sent")
        return self._h.hexdigest()


def _form_body(
    fields: dict[str, str], key: str, body: Iterator[bytes], length: int
) -> tuple[Iterator[bytes], int, str]:
    """A streaming multipart/form-data body: the form's fields, then ``length`` bytes of file."""
    boundary = f"----airflow-kfp-{uuid.uuid4().hex}"
    head = b""
    for name, value in {**fields, "key": key}.items():
        head += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def stream() -> Iterator[bytes]:
        yield head
        yield from body
        yield tail

    return stream(), len(head) + length + len(tail), f"multipart/form-data; boundary={boundary}"


def post(form: dict[str, Any], key: str, source: Source, start: int, length: int, what: str) -> None:
    """POST ``length`` bytes of ``source`` from ``start`` to ``key`` with a presigned form (one S3 request)."""

    def once() -> None:
        data, size, content_type = _form_body(form["fields"], key, source.chunks(start, length), length)
        request = urllib.request.Request(
            form["url"], data=data, method="POST", headers={"Content-Type": content_type, "Content-Length": str(size)}
        )
        with urllib.request.urlopen(request, timeout=300) as resp:
            resp.read()

    transport._retrying(what, once)


def put_file(form: dict[str, Any], key: str, path: str, uri: str) -> tuple[str, int]:
    """A file no larger than one part, POSTed straight to ``key``; (sha256 hex, size)."""
    source = Source(path)
    post(form, key, source, 0, source.size, f"uploading {uri}")
    return source.hexdigest(), source.size


def _put_part(url: str, source: Source, start: int, length: int, what: str) -> str:
    def once() -> str:
        request = urllib.request.Request(
            url,
            data=source.chunks(start, length),
            method="PUT",
            headers={"Content-Length": str(length), "Content-Type": "application/octet-stream"},
        )
        with urllib.request.urlopen(request, timeout=300) as resp:
            resp.read()
            return str(resp.headers.get("ETag", "")).strip()

    return str(transport._retrying(what, once))


def send(
    source: Source, uri: str, spill: dict[str, Any], index: int, urls: list[str] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Send ``source`` in parts: the first through the presigned ``urls``, the rest as chunk objects
    under ``spill["prefix"] + f"{index}/"``. Returns (the parts' numbers and ETags, the spilled range
    ``{"prefix", "first", "last"}`` the worker copies into parts, or None)."""
    urls = urls or []
    part = part_size(source.size, len(urls), int(spill["part_size"]))
    count = max(1, math.ceil(source.size / part))
    parts: list[dict[str, Any]] = []
    prefix = f"{spill['prefix']}{index}/"
    for number in range(1, count + 1):
        start = (number - 1) * part
        length = min(part, source.size - start)
        what = f"uploading part {number}/{count} of {uri}"
        if number <= len(urls):
            parts.append({"PartNumber": number, "ETag": _put_part(urls[number - 1], source, start, length, what)})
        else:
            post(spill["form"], f"{prefix}{number:0{SPILL_DIGITS}d}", source, start, length, what)
    spilled = {"prefix": prefix, "first": len(urls) + 1, "last": count} if count > len(urls) else None
    transport._log(f"uploaded {uri} in {count} part(s) of up to {part} bytes ({count - len(parts)} to be copied)")
    return parts, spilled
