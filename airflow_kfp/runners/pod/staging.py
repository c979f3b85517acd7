"""The operator's half of moving artifacts through a pod: the transfer plan, made at execute time.

Credentials stay on the worker. For an S3 root the plan holds presigned GET URLs (one per input
file; a directory input is listed here and each file presigned) and, per output, three presigned
ways up: a multipart upload the worker starts here with presigned parts (a file output), a POST form
whose policy allows only keys under ``<uri>/`` (a directory's files up to one part, since their names
are known only after the component ran), and a POST form for the try's spill prefix (part-sized chunk
objects of anything larger, which the worker copies into place after the pod with ``UploadPartCopy``;
see ``runtime.transfer``). After the pod the worker completes the uploads, or aborts them and deletes
the chunks. All expire after ``[kfp] presigned_url_expiry``. For a local root the plan names paths on
a shared volume instead.
"""

from __future__ import annotations

from typing import Any

from airflow_kfp.core.artifacts import uri_to_local_path
from airflow_kfp.manifest import recorded_as_given
from airflow_kfp.runners import task_document
from airflow_kfp.runners.base import ResolvedInputs
from airflow_kfp.runtime.pod import POD_WORKDIR
from airflow_kfp.runtime.transfer import MAX_PART, MAX_PARTS, SPILL_DIGITS
from airflow_kfp.stores.artifact_store import ArtifactNotFoundError, ArtifactStore, ArtifactStoreError
from airflow_kfp.stores.layout import encode_segment

Plan = list[dict[str, Any]]


def is_s3(store: ArtifactStore) -> bool:
    return store.root.startswith("s3://")


def input_plan(
    store: ArtifactStore, inputs: ResolvedInputs, expires_s: int, on_volume: bool
) -> tuple[dict[str, list[dict[str, Any]]], Plan]:
    """(executor-input entries with pod paths, the pod's download list)."""
    entries: dict[str, list[dict[str, Any]]] = {}
    plan: Plan = []
    for name, records in inputs.artifacts.items():
        entries[name] = []
        for i, record in enumerate(records):
            uri = record["uri"]
            if recorded_as_given(record):
                entries[name].append(task_document.artifact_entry(name, record, uri_to_local_path(uri)))
                continue
            item: dict[str, Any] = {  # what the pod's staging verifies before the user's code runs
                "name": name,
                "uri": uri,
                "digest": record.get("digest"),
                "size": record.get("size"),
                "producer": record.get("producer"),
            }
            local = store.local_path(uri) if on_volume else None
            if local is not None:
                item.update(kind="volume", path=str(local), files=[])
            else:
                info = store.stat(uri)
                if info is None:
                    raise ArtifactNotFoundError(
                        f"input artifact '{name}' at {uri} no longer exists; re-run the task that produced it"
                    )
                base = encode_segment(uri.rstrip("/").rsplit("/", 1)[-1] or name)
                item["path"] = f"{POD_WORKDIR}/inputs/{name}/{i}/{base}"
                if info.is_dir:
                    prefix = info.uri.rstrip("/") + "/"
                    item["kind"] = "dir"
                    item["files"] = [
                        {"rel": u[len(prefix) :], "url": store.presigned_url(u, "GET", expires_s)}
                        for u in store.list_uris(prefix)
                    ]
                else:
                    item["kind"] = "file"
                    item["files"] = [{"rel": "", "url": store.presigned_url(info.uri, "GET", expires_s)}]
            plan.append(item)
            entries[name].append(task_document.artifact_entry(name, record, item["path"]))
    return entries, plan


def _post_form(client: Any, bucket: str, key: str, expires_s: int) -> dict[str, Any]:
    form = client.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Conditions=[["content-length-range", 0, MAX_PART]],
        ExpiresIn=expires_s,
    )
    fields = {k: v for k, v in form["fields"].items() if k != "key"}
    return {"url": form["url"], "fields": fields}


PRESIGNED_PARTS = 32
"""UploadPart URLs per output file: parts grow up to 5 GiB to fit (160 GiB); beyond, parts are spilled."""
SPILL_FOLDER = ".kfp-spill"
"""Under a try's folder: chunk objects the worker copies into the try's outputs, then deletes."""


def spill_prefix(output_uri: str) -> str:
    """``<try folder>/.kfp-spill/<output name>/``: where the pod may POST the chunks of ``output_uri``."""
    folder, _, name = output_uri.rstrip("/").rpartition("/")
    return f"{folder}/{SPILL_FOLDER}/{name}/"


def output_plan(
    store: ArtifactStore,
    output_uris: dict[str, str],
    types: dict[str, str],
    expires_s: int,
    on_volume: bool,
    part_size: int = 64 * 1024**2,
) -> tuple[dict[str, dict[str, Any]], Plan]:
    """(executor-input entries with pod paths, the pod's upload list)."""
    entries: dict[str, dict[str, Any]] = {}
    plan: Plan = []
    for name, uri in output_uris.items():
        store.ensure_under_root(uri)  # a presigned form or a volume path must never point outside the root
        item: dict[str, Any] = {"name": name, "uri": uri, "type": types[name]}
        local = store.local_path(uri) if on_volume else None
        if local is not None:
            item.update(path=f"{local}.kfp-partial", move_to=str(local))
        else:
            from airflow_kfp.stores.s3 import split_s3_uri

            bucket, key = split_s3_uri(uri)
            client = store.client  # type: ignore[attr-defined]
            _, spill_key = split_s3_uri(spill_prefix(uri))
            item.update(
                path=f"{POD_WORKDIR}/outputs/{name}",
                key=key,
                dir_form=_post_form(client, bucket, key + "/${filename}", expires_s),
                spill={
                    "form": _post_form(client, bucket, spill_key + "/${filename}", expires_s),
                    "prefix": spill_key + "/",
                    "part_size": part_size,
                },
            )
            # A file goes up as a multipart upload (any size); the worker completes or aborts it.
            upload_id, urls = store.start_multipart(uri, PRESIGNED_PARTS, expires_s)  # type: ignore[attr-defined]
            item["multipart"] = {"upload_id": upload_id, "part_urls": urls}
        plan.append(item)
        entries[name] = task_document.artifact_entry(name, {"uri": uri, "type": types[name]}, item["path"])
    return entries, plan


def _chunk_sources(uri: str, spilled: dict[str, Any]) -> list[tuple[int, str]]:
    """``(part number, chunk uri)`` of a spilled range the pod reported, refusing keys outside the
    output's spill prefix (the worker copies with its own credentials)."""
    from airflow_kfp.stores.s3 import split_s3_uri

    bucket, allowed = split_s3_uri(spill_prefix(uri))
    prefix, first, last = str(spilled.get("prefix", "")), int(spilled.get("first", 0)), int(spilled.get("last", 0))
    if not prefix.startswith(allowed + "/") or ".." in prefix.split("/") or not 1 <= first <= last <= MAX_PARTS:
        raise ArtifactStoreError(
            f"the pod reported spilled parts {first}..{last} at {prefix!r}, outside {spill_prefix(uri)}; refusing"
        )
    return [(n, f"s3://{bucket}/{prefix}{n:0{SPILL_DIGITS}d}") for n in range(first, last + 1)]


def complete_output(store: ArtifactStore, uri: str, uploaded: dict[str, Any]) -> None:
    """After the pod: make its uploads of ``uri`` whole objects. A file output's upload gets its spilled
    parts copied in and is completed; each spilled file of a directory output is assembled at its key;
    the chunks are then deleted. The objects appear now, each whole."""
    s3: Any = store  # the S3 store's multipart methods
    if "upload_id" in uploaded:
        parts = list(uploaded["parts"])
        if uploaded.get("spilled"):
            parts += s3.copy_parts(uri, uploaded["upload_id"], _chunk_sources(uri, uploaded["spilled"]))
        s3.complete_multipart(uri, uploaded["upload_id"], parts)
    for spilled in uploaded.get("files") or []:
        rel = str(spilled["rel"])
        if not rel or any(p in ("", ".", "..") for p in rel.split("/")):
            raise ArtifactStoreError(f"the pod reported an unsafe file name {rel!r} in {uri}; refusing")
        s3.assemble(f"{uri}/{rel}", [source for _, source in _chunk_sources(uri, spilled)])
    if uploaded.get("spilled") or uploaded.get("files"):
        store.delete(spill_prefix(uri).rstrip("/"), recursive=True)
