"""Large transfers between a pod and S3 through presigned URLs, standard library only, memory flat.

- Download: one GET streamed to disk in 1 MiB chunks; when the connection drops, the next attempt asks
  for the rest with ``Range: bytes=<received>-`` and goes on hashing where it stopped.
- Upload: S3 multipart. The worker started the upload and presigned ``UploadPart`` URLs (one per part
  number; the size of a part is not signed, so the pod picks it: at least ``part_size``, larger when the
  file needs more parts than there are URLs, at most 5 GiB). Each part streams from the file with a
  known ``Content-Length``; a failed part is sent again from its offset. The pod reports the parts'
  ETags; the worker completes the upload, or aborts it, so a partial object is never visible.

The sha256 of the whole file is computed while the bytes go out, once, whatever the retries.
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
    """Parts of at least ``configured`` bytes, larger when the file needs more parts than URLs."""
    part = max(configured, MIN_PART, math.ceil(size / max(urls, 1)))
    if part > MAX_PART:
        raise transport.StagingError(
            f"{size} bytes need parts of {part} bytes with {urls} presigned parts; S3 allows 5 GiB per part"
        )
    return part


def upload(plan: dict[str, Any], path: str, uri: str) -> tuple[str, int, list[dict[str, Any]]]:
    """Send ``path`` as the parts of the multipart upload in ``plan``; (sha256 hex, size, parts)."""
    size = os.path.getsize(path)
    urls: list[str] = plan["part_urls"]
    part = part_size(size, len(urls), int(plan["part_size"]))
    count = max(1, math.ceil(size / part))
    h = hashlib.sha256()
    hashed = 0  # bytes already in the digest: a retried part is not hashed twice
    parts: list[dict[str, Any]] = []
    for number in range(1, count + 1):
        start = (number - 1) * part
        length = min(part, size - start)

        def body(start: int = start, length: int = length) -> Iterator[bytes]:
            nonlocal hashed
            with open(path, "rb") as fh:
                fh.seek(start)
                left = length
                while left > 0:
                    chunk = fh.read(min(transport.CHUNK, left))
                    if not chunk:
                        raise OSError(f"{path} shrank while it was uploaded")
                    offset = start + length - left
                    if offset + len(chunk) > hashed:
                        h.update(chunk[hashed - offset :] if hashed > offset else chunk)
                        hashed = offset + len(chunk)
                    left -= len(chunk)
                    yield chunk

        def once(number: int = number, length: int = length, body: Any = body) -> str:
            request = urllib.request.Request(
                urls[number - 1],
                data=body(),
                method="PUT",
                headers={"Content-Length": str(length), "Content-Type": "application/octet-stream"},
            )
            with urllib.request.urlopen(request, timeout=300) as resp:
                resp.read()
                return str(resp.headers.get("ETag", "")).strip()

        etag = transport._retrying(f"uploading part {number}/{count} of {uri}", once)
        parts.append({"PartNumber": number, "ETag": etag})
    transport._log(f"uploaded {uri} in {count} part(s) of up to {part} bytes")
    return h.hexdigest(), size, parts
