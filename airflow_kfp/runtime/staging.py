"""Move artifacts in and out of a pod with the standard library only, hashing bytes as they stream.

The operator, which holds the store credentials, hands the pod a plan at execute time: for each input
file a presigned GET URL; for each output a presigned POST form (one for a single file, one whose
policy allows any key under ``<uri>/`` for a directory, since the file names are unknown until the
component has run). The pod never sees a long-lived credential. With the artifact root on a shared
volume (PVC), inputs are read in place and outputs are renamed into place instead.

Memory stays bounded whatever the artifact size: every transfer moves 1 MiB chunks. A presigned POST
is one S3 request, so a single file is limited to 5 GiB; a directory may hold any number of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

from airflow_kfp.runtime.artifacts import METRICS_TYPES
from airflow_kfp.runtime.transport import CHUNK, MAX_POST_BYTES, StagingError, _log, _retrying
from airflow_kfp.runtime.verify import (
    ArtifactIntegrityError,
    check,
    dir_digest,
    format_digest,
    hash_file,
    verify_in_place,
    walk_files,
)

# -- inputs ---------------------------------------------------------------------------------


def download(url: str, dest: str, uri: str) -> tuple[str, int]:
    """GET ``url`` into ``dest``, resuming with ranged GETs; return (sha256 hex, size). (k8s: transfer.py)"""
    from airflow_kfp.runtime import transfer

    return transfer.download(url, dest, uri)


def stage_inputs(inputs: list[dict[str, Any]]) -> None:
    """Fetch every input artifact to its local path and check it against the digest its manifest
    records (hashed while it streams; read in place on a shared volume), before any user code runs."""
    try:
        for item in inputs:
            _stage_input(item)
    except ArtifactIntegrityError as exc:
        raise StagingError(str(exc)) from None


def _stage_input(item: dict[str, Any]) -> None:
    uri, path = item["uri"], item["path"]
    record = {"digest": item.get("digest"), "size": item.get("size"), "producer": item.get("producer")}
    if item["kind"] == "volume":
        digest, size = verify_in_place(item["name"], path, uri, record)
        _log(f"verified input '{item['name']}' at {uri} in place ({size} bytes, {digest or 'size only'})")
        return
    if item["kind"] == "file":
        hexd, size = download(item["files"][0]["url"], path, uri)
        digest = format_digest(hexd)
    else:
        os.makedirs(path, exist_ok=True)
        hashes, size = [], 0
        for entry in item["files"]:
            parts = entry["rel"].split("/")
            if any(p in ("", ".", "..") for p in parts) or "\0" in entry["rel"]:
                raise StagingError(f"refusing to stage {entry['rel']!r} of input {uri}: unsafe path")
            hexd, n = download(entry["url"], os.path.join(path, *parts), uri)
            hashes.append((entry["rel"], hexd))
            size += n
        digest = dir_digest(hashes)
    check(item["name"], uri, record, digest, size)
    _log(f"staged input '{item['name']}' from {uri} ({size} bytes, {digest})")


# -- outputs --------------------------------------------------------------------------------


def _multipart(fields: dict[str, str], key: str, path: str, size: int, h: Any) -> tuple[Iterator[bytes], int, str]:
    """A streaming multipart/form-data body: fields, then the file in chunks (hashed as sent)."""
    boundary = f"----airflow-kfp-{uuid.uuid4().hex}"
    head = b""
    for name, value in {**fields, "key": key}.items():
        head += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{os.path.basename(path)}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                h.update(chunk)
                yield chunk
        yield tail

    return body(), len(head) + size + len(tail), f"multipart/form-data; boundary={boundary}"


def upload(form: dict[str, Any], key: str, path: str, uri: str) -> tuple[str, int]:
    """POST ``path`` to S3 under ``key`` with a presigned form; return (sha256 hex, size)."""
    size = os.path.getsize(path)
    if size > MAX_POST_BYTES:
        raise StagingError(
            f"output {uri}: {path} is {size} bytes; one file uploaded with a presigned POST is limited to 5 GiB. "
            "Write the artifact as a directory of smaller parts, or put the artifact root on a shared volume "
            "([kfp] artifact_volume_claim)"
        )

    def once() -> str:
        h = hashlib.sha256()
        body, length, content_type = _multipart(form["fields"], key, path, size, h)
        request = urllib.request.Request(
            form["url"],
            data=body,
            method="POST",
            headers={"Content-Type": content_type, "Content-Length": str(length)},
        )
        with urllib.request.urlopen(request, timeout=300) as resp:
            resp.read()
        return h.hexdigest()

    return _retrying(f"uploading {uri}", once), size


def _move_into_place(path: str, dest: str) -> None:
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if os.path.isdir(dest) and not os.path.islink(dest):
        shutil.rmtree(dest)
    elif os.path.lexists(dest):
        os.unlink(dest)
    shutil.move(path, dest)


def store_output(item: dict[str, Any]) -> tuple[int, str, list[str]]:
    """Upload (or move) one output artifact; return (size, digest, relative paths of a directory's files)."""
    path, uri = item["path"], item["uri"]
    is_dir = os.path.isdir(path)
    files = list(walk_files(path)) if is_dir else [("", path)]
    hashes: list[tuple[str, str]] = []
    total = 0
    for rel, fpath in files:
        if item.get("move_to"):
            hexd, size = hash_file(fpath)
        elif is_dir:
            hexd, size = upload(item["dir_form"], f"{item['key']}/{rel}", fpath, uri)
        elif item.get("multipart"):  # k8s: any size, as the parts of the worker's multipart upload
            from airflow_kfp.runtime import transfer

            hexd, size, parts = transfer.upload(item["multipart"], fpath, uri)
            item["uploaded"] = {"upload_id": item["multipart"]["upload_id"], "parts": parts}
        else:
            hexd, size = upload(item["file_form"], item["key"], fpath, uri)
        hashes.append((rel, hexd))
        total += size
    if item.get("move_to"):
        _move_into_place(path, item["move_to"])
    digest = dir_digest(hashes) if is_dir else format_digest(hashes[0][1])
    _log(f"stored output '{item['name']}' at {uri} ({total} bytes, {digest})")
    return total, digest, [rel for rel, _ in hashes] if is_dir else []


def stage_outputs(outputs: list[dict[str, Any]], executor_output: dict[str, Any]) -> dict[str, Any]:
    """Store every output artifact; return ``{name: ArtifactRecord}`` for the XCom result."""
    produced = executor_output.get("artifacts") or {}
    records: dict[str, Any] = {}
    for item in outputs:
        name = item["name"]
        entries = (produced.get(name) or {}).get("artifacts") or [{}]
        metadata = dict(entries[0].get("metadata") or {})
        path = item["path"]
        if not os.path.exists(path):
            if item["type"] not in METRICS_TYPES:
                raise StagingError(
                    f"the component did not write its output artifact '{name}' (nothing at its .path); "
                    "write a file or directory there"
                )
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(metadata, fh, indent=2, sort_keys=True)
        size, digest, files = store_output(item)
        records[name] = {"uri": item["uri"], "type": item["type"], "metadata": metadata, "size": size, "digest": digest}
        if files:
            records[name]["files"] = files  # lets the operator drop what an earlier try left there
        if item.get("uploaded"):
            records[name]["multipart"] = item["uploaded"]  # the operator completes the upload
    return records
