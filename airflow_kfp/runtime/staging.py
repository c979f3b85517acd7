"""Move artifacts in and out of a pod with the standard library only, hashing bytes as they stream.

The operator, which holds the store credentials, hands the pod a plan at execute time: for each input
file a presigned GET URL; for each output a multipart upload with presigned parts (a file output), a
presigned POST form whose policy allows any key under ``<uri>/`` (a directory output's files, whose
names are unknown until the component has run) and one for the task's spill prefix (what no part or
single POST takes; see ``transfer``). The pod never sees a long-lived credential. With the artifact
root on a shared volume (PVC), inputs are read in place and outputs are renamed into place instead.

Memory stays bounded whatever the artifact size: every transfer moves 1 MiB chunks, and no output has
a size limit of its own beyond S3's.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from airflow_kfp.core.artifacts import METRICS_TYPES
from airflow_kfp.runtime import regular, transfer
from airflow_kfp.runtime.regular import walk_files
from airflow_kfp.runtime.transport import StagingError, _log
from airflow_kfp.runtime.verify import (
    ArtifactIntegrityError,
    check,
    dir_digest,
    format_digest,
    hash_file,
    verify_in_place,
)

# -- inputs ---------------------------------------------------------------------------------


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
        hexd, size = transfer.download(item["files"][0]["url"], path, uri)
        digest = format_digest(hexd)
    else:
        os.makedirs(path, exist_ok=True)
        hashes, size = [], 0
        for entry in item["files"]:
            parts = entry["rel"].split("/")
            if any(p in ("", ".", "..") for p in parts) or "\0" in entry["rel"]:
                raise StagingError(f"refusing to stage {entry['rel']!r} of input {uri}: unsafe path")
            hexd, n = transfer.download(entry["url"], os.path.join(path, *parts), uri)
            hashes.append((entry["rel"], hexd))
            size += n
        digest = dir_digest(hashes)
    check(item["name"], uri, record, digest, size)
    _log(f"staged input '{item['name']}' from {uri} ({size} bytes, {digest})")


# -- outputs --------------------------------------------------------------------------------


def _move_into_place(path: str, dest: str) -> None:
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if os.path.isdir(dest) and not os.path.islink(dest):
        shutil.rmtree(dest)
    elif os.path.lexists(dest):
        os.unlink(dest)
    shutil.move(path, dest)


def store_output(item: dict[str, Any]) -> tuple[int, str, list[str]]:
    """Upload (or move) one output artifact; return (size, digest, relative paths of a directory's files).

    On S3, a file output goes up as the parts of the worker's multipart upload; each file of a
    directory output larger than a part is spilled as chunk objects the worker copies into place
    (``item["uploaded"]`` tells it what to complete); smaller ones are POSTed to their final key."""
    path, uri = item["path"], item["uri"]
    is_dir = regular.check_regular(path)  # lstat only: regularise_output already ran for every output
    files = list(walk_files(path)) if is_dir else [("", path)]
    hashes: list[tuple[str, str]] = []
    total = 0
    spilled: list[dict[str, Any]] = []
    for index, (rel, fpath) in enumerate(files):
        if item.get("move_to"):
            hexd, size = hash_file(fpath)
        elif is_dir and os.path.getsize(fpath) <= min(int(item["spill"]["part_size"]), transfer.MAX_PART):
            hexd, size = transfer.put_file(item["dir_form"], f"{item['key']}/{rel}", fpath, uri)
        else:  # k8s: any size, as parts the worker completes
            source = transfer.Source(fpath)
            urls = None if is_dir else item["multipart"]["part_urls"]
            parts, spill = transfer.send(source, uri, item["spill"], index, urls)
            hexd, size = source.hexdigest(), source.size
            if is_dir:
                spilled.append({"rel": rel, **(spill or {})})
            else:
                item["uploaded"] = {"upload_id": item["multipart"]["upload_id"], "parts": parts}
                if spill:
                    item["uploaded"]["spilled"] = spill
        hashes.append((rel, hexd))
        total += size
    if spilled:
        item["uploaded"] = {"files": spilled}
    if item.get("move_to"):
        _move_into_place(path, item["move_to"])
    digest = dir_digest(hashes) if is_dir else format_digest(hashes[0][1])
    _log(f"stored output '{item['name']}' at {uri} ({total} bytes, {digest})")
    return total, digest, [rel for rel, _ in hashes] if is_dir else []


def stage_outputs(outputs: list[dict[str, Any]], executor_output: dict[str, Any]) -> dict[str, Any]:
    """Store every output artifact; return ``{name: ArtifactRecord}`` for the XCom result."""
    produced = executor_output.get("artifacts") or {}
    records: dict[str, Any] = {}
    try:  # regular files and folders only, for every output before any is read or moved
        for item in outputs:
            for note in regular.regularise_output(item["name"], item["path"]):
                _log(note)
    except (regular.IrregularEntryError, OSError) as exc:
        raise StagingError(f"{exc}; nothing was stored") from None
    for item in outputs:
        name = item["name"]
        entries = (produced.get(name) or {}).get("artifacts") or [{}]
        metadata = dict(entries[0].get("metadata") or {})
        path = item["path"]
        elsewhere = str(entries[0].get("uri") or item["uri"])
        if not os.path.lexists(path) and elsewhere != item["uri"]:  # KFP: kept at the component's own URI
            records[name] = {"uri": elsewhere, "type": item["type"], "metadata": metadata, "external": True}
            continue
        if not os.path.lexists(path):
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
            records[name]["multipart"] = item["uploaded"]  # the operator completes the uploads
    return records
