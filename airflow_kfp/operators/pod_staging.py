"""The operator's half of moving artifacts through a pod: the transfer plan, made at execute time.

Credentials stay on the worker. For an S3 root the plan holds presigned GET URLs (one per input
file; a directory input is listed here and each file presigned) and presigned POST forms for outputs:
one bound to the exact key for a file, one whose policy allows only keys under ``<uri>/`` for a
directory, because its file names are known only after the component ran; a file output goes up as
the parts of a multipart upload the worker starts here and completes (or aborts) after the pod. All expire after
``[kfp] presigned_url_expiry``. For a local root the plan names paths on a shared volume instead.
"""

from __future__ import annotations

from typing import Any

from airflow_kfp.hooks.artifact_store import ArtifactNotFoundError, ArtifactStore
from airflow_kfp.hooks.layout import encode_segment
from airflow_kfp.operators import task_document
from airflow_kfp.operators.base import ResolvedInputs
from airflow_kfp.runtime.pod import POD_WORKDIR
from airflow_kfp.runtime.staging import MAX_POST_BYTES

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
        Conditions=[["content-length-range", 0, MAX_POST_BYTES]],
        ExpiresIn=expires_s,
    )
    fields = {k: v for k, v in form["fields"].items() if k != "key"}
    return {"url": form["url"], "fields": fields}


PRESIGNED_PARTS = 32
"""UploadPart URLs per output file: with parts of up to 5 GiB, a file may reach 160 GiB."""


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
            from airflow_kfp.hooks.s3_store import split_s3_uri

            bucket, key = split_s3_uri(uri)
            client = store.client  # type: ignore[attr-defined]
            item.update(
                path=f"{POD_WORKDIR}/outputs/{name}",
                key=key,
                file_form=_post_form(client, bucket, key, expires_s),
                dir_form=_post_form(client, bucket, key + "/${filename}", expires_s),
            )
            # A file goes up as a multipart upload (any size); the worker completes or aborts it.
            upload_id, urls = store.start_multipart(uri, PRESIGNED_PARTS, expires_s)  # type: ignore[attr-defined]
            item["multipart"] = {"upload_id": upload_id, "part_urls": urls, "part_size": part_size}
        plan.append(item)
        entries[name] = task_document.artifact_entry(name, {"uri": uri, "type": types[name]}, item["path"])
    return entries, plan
