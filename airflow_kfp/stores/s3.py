"""The S3 store (AWS or any S3-compatible endpoint): streaming transfers hashed in one pass."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import IO, Any, TypeVar, cast

import boto3
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from s3transfer.exceptions import RetriesExceededError
from s3transfer.manager import TransferManager
from s3transfer.subscribers import BaseSubscriber

from airflow_kfp.runtime import regular
from airflow_kfp.stores.artifact_store import (
    ArtifactAccessDeniedError,
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactStoreError,
    ArtifactStoreUnreachableError,
    ObjectInfo,
    UnsupportedURIError,
    plain_path,
)
from airflow_kfp.stores.digest import HashingWriter, dir_digest, format_digest, hash_alongside, tree_etag
from airflow_kfp.stores.local import install, temp_sibling, walk_files
from airflow_kfp.stores.outage import DEFAULT_WINDOW_S, OutagePolicy

log = logging.getLogger(__name__)
T = TypeVar("T")
MiB = 1024 * 1024

_CONNECTION_ERRORS = (
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ResponseStreamingError,
    RetriesExceededError,
)
_THROTTLING = {"Throttling", "ThrottlingException", "SlowDown", "RequestTimeout", "RequestLimitExceeded"}
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled", "ExpiredToken"}
_MISSING = {"NoSuchKey", "NotFound", "404"}


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key); the key may be empty (the bucket's top)."""
    if not uri.startswith("s3://"):
        raise UnsupportedURIError(
            f"the S3 artifact store cannot handle {uri!r}: it takes s3://bucket/key URIs; "
            "use a file:// root for a local store"
        )
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise UnsupportedURIError(f"{uri!r} names no bucket: write s3://bucket/prefix")
    return bucket, key.rstrip("/")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: connection trouble, timeouts, 5xx and throttling."""
    if isinstance(exc, _CONNECTION_ERRORS):
        return True
    if isinstance(exc, ClientError):
        status = _status(exc)  # 501 NotImplemented is an answer, not a hiccup
        return (status >= 500 and status != 501) or _code(exc) in _THROTTLING
    return False


class _ProvideMeta(BaseSubscriber):
    """Tells s3transfer the size and ETag we already know: no HEAD per download, and ranged GETs
    are pinned to that ETag (IfMatch) so an object replaced mid-download fails instead of mixing."""

    def __init__(self, size: int, etag: str | None) -> None:
        self._size = size
        self._etag = etag

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        future.meta.provide_transfer_size(self._size)
        if self._etag:
            future.meta.provide_object_etag(f'"{self._etag}"')


class S3ArtifactStore(ArtifactStore):
    """Artifacts as S3 objects; a directory is one object per file under ``uri + "/"``."""

    def __init__(
        self,
        root: str,
        *,
        conn_id: str | None = None,
        endpoint_url: str | None = None,
        client: Any | None = None,
        multipart_threshold: int = 8 * MiB,
        multipart_chunksize: int = 8 * MiB,
        max_concurrency: int = 8,
        max_attempts: int = 5,
        retry_mode: str = "standard",
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        outage_window_s: float = DEFAULT_WINDOW_S,
        op_backoff_s: float = 1.0,
    ) -> None:
        bucket, key = split_s3_uri(root)
        self.root = f"s3://{bucket}/{key}".rstrip("/")
        self.conn_id = conn_id
        self.outage = OutagePolicy(window_s=outage_window_s, base_s=op_backoff_s)
        self.max_concurrency = max_concurrency
        self.transfer_config = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
            max_concurrency=max_concurrency,
            use_threads=True,
            preferred_transfer_client="classic",
        )
        # Parts read ahead for upload: memory is about (max_concurrency + 2) * chunksize, whatever
        # the artifact's size; the 2 spare parts keep every request thread busy.
        self.transfer_config.max_in_memory_upload_chunks = max_concurrency + 2
        retries: Any = {"mode": retry_mode, "total_max_attempts": max_attempts}  # first try included
        self.client = client or build_s3_client(
            conn_id,
            endpoint_url,
            Config(
                retries=retries,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_pool_connections=max(10, max_concurrency * 2),
                signature_version="s3v4",
            ),
        )
        self._conditional_put = True

    # -- plumbing -----------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return str(self.client.meta.endpoint_url)

    def _who(self) -> str:
        return f"connection {self.conn_id!r}" if self.conn_id else "the default AWS credential chain"

    def _window(self) -> str:
        return f"[kfp] store_outage_window = {self.outage.window_s:g}s"

    def _error(self, exc: BaseException, uri: str, action: str) -> ArtifactStoreError:
        """Turn a boto error into one that names the URI and the fix (never a secret)."""
        if isinstance(exc, ArtifactStoreError):
            return exc
        if isinstance(exc, RetriesExceededError) and exc.last_exception is not None:
            exc = exc.last_exception
        if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ConnectionClosedError | ReadTimeoutError):
            return ArtifactStoreUnreachableError(
                f"cannot reach the S3 endpoint {self.endpoint} to {action} {uri} after retries "
                f"({type(exc).__name__}; waited out {self._window()}): check endpoint_url in the connection, "
                "the network and that the store is running"
            )
        if isinstance(exc, NoCredentialsError):
            return ArtifactAccessDeniedError(
                f"no AWS credentials to {action} {uri} ({self._who()}): set login/password on the "
                "connection or give the worker a role"
            )
        if isinstance(exc, ClientError):
            code, status = _code(exc), _status(exc)
            bucket = split_s3_uri(uri)[0]
            if code == "NoSuchBucket":
                return ArtifactNotFoundError(
                    f"bucket {bucket!r} does not exist (uri {uri}): create it or fix [kfp] artifact_root"
                )
            if code in _DENIED or status == 403:
                return ArtifactAccessDeniedError(
                    f"access denied to {action} {uri} with {self._who()} ({code or status}): grant "
                    f"s3:GetObject/PutObject/ListBucket/DeleteObject on bucket {bucket!r} or fix the credentials"
                )
            if code in _MISSING or status == 404:
                return ArtifactNotFoundError(f"no artifact at {uri}: check the URI or the upstream task")
            if is_transient(exc):
                return ArtifactStoreError(
                    f"S3 refused to {action} {uri}: {code or status}: {exc} (still failing after retries; "
                    f"waited out {self._window()})"
                )
            return ArtifactStoreError(f"S3 refused to {action} {uri}: {code or status}: {exc}")
        return ArtifactStoreError(f"failed to {action} {uri}: {type(exc).__name__}: {exc}")

    def _retrying(self, uri: str, action: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` (a whole operation), starting it over on transient failures until the outage
        window (``[kfp] store_outage_window``) is spent.

        botocore already retries each request a few times; this covers what it cannot: an endpoint
        down or answering 5xx for longer (a restart), a connection lost in the middle of a multipart
        transfer (the file starts over).
        """
        try:
            return self.outage.run(fn, transient=is_transient, what=f"{action} {uri}", endpoint=self.endpoint)
        except Exception as exc:
            raise self._error(exc, uri, action) from exc

    def _manager(self) -> TransferManager:
        return create_transfer_manager(self.client, self.transfer_config)

    def _keys(self, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def _head(self, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            return dict(self.client.head_object(Bucket=bucket, Key=key))
        except ClientError as exc:
            if _status(exc) == 404 or _code(exc) in _MISSING:
                return None
            raise

    # -- transfers ----------------------------------------------------------------------------

    def _upload_file(self, tm: TransferManager, path: Path, uri: str) -> tuple[str, int]:
        bucket, key = split_s3_uri(uri)
        failed = False

        def once() -> tuple[str, int]:
            nonlocal failed
            try:
                # By file name, as boto3's upload_file: the request threads read their parts in parallel,
                # and the digest is computed alongside on another thread (perf, issue 15).
                _, hexd, size = hash_alongside(path, lambda: tm.upload(str(path), bucket, key).result())
            except BaseException:
                failed = True
                self._abort_incomplete(bucket, key)
                raise
            return hexd, size

        result = self._retrying(uri, "upload to", once)
        if failed:  # an earlier attempt's abort may have failed with the connection: try again now
            self._abort_incomplete(bucket, key)
        return result

    def _abort_incomplete(self, bucket: str, key: str) -> None:
        """Abort the multipart uploads left on ``key`` by a failed attempt (s3transfer's own abort
        fails too when the connection is cut). Each try writes its own keys, so any upload in
        progress on ``key`` is ours. Best effort: a bucket lifecycle rule
        (AbortIncompleteMultipartUpload) removes what stays when the store cannot be reached."""
        try:
            listed = self.client.list_multipart_uploads(Bucket=bucket, Prefix=key)
            for upload in listed.get("Uploads") or []:
                if upload.get("Key") == key:
                    self.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
                    log.info(
                        "aborted the incomplete multipart upload %s of s3://%s/%s", upload["UploadId"], bucket, key
                    )
        except Exception as exc:
            log.warning(
                "could not abort incomplete multipart uploads of s3://%s/%s (%s); they are retried after the "
                "next attempt, and a lifecycle rule AbortIncompleteMultipartUpload on the bucket removes them",
                bucket,
                key,
                type(exc).__name__,
            )

    def _download_file(self, tm: TransferManager, uri: str, size: int, etag: str | None, dest: Path) -> str:
        bucket, key = split_s3_uri(uri)

        def once() -> str:
            with open(dest, "wb") as raw:
                writer = HashingWriter(raw)
                future = tm.download(bucket, key, cast(IO[bytes], writer), subscribers=[_ProvideMeta(size, etag)])
                future.result()
            return writer.hexdigest()

        return self._retrying(uri, "download", once)

    def _map(self, fn: Callable[[T], Any], items: list[T]) -> list[Any]:
        """Run per-file transfers side by side; the shared manager bounds requests and memory."""
        if len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=min(len(items), self.max_concurrency)) as pool:
            return list(pool.map(fn, items))

    def put_path(self, local: Path, uri: str, *, move: bool = False) -> ObjectInfo:
        local = plain_path(local)
        bucket, key = split_s3_uri(self.ensure_under_root(uri))
        uri = f"s3://{bucket}/{key}"
        if not os.path.lexists(local):
            raise ArtifactNotFoundError(f"cannot store {local} at {uri}: the local path does not exist")
        try:  # regular files and folders only, checked before anything is read (a FIFO would block)
            is_dir = regular.check_regular(os.fspath(local))
        except regular.IrregularEntryError as exc:
            raise ArtifactStoreError(f"refusing to store {local} at {uri}: {exc}") from None
        with self._manager() as tm:
            if is_dir:
                files = list(walk_files(local))
                hashes = self._map(lambda f: self._upload_file(tm, f[1], f"{uri}/{f[0]}"), files)
                entries = [(rel, h) for (rel, _), (h, _) in zip(files, hashes)]
                kept = self._remove_stale(uri, keep={f"{key}/{rel}" for rel, _ in files}, drop_file=True)
                info = ObjectInfo(
                    uri,
                    sum(s for _, s in hashes),
                    dir_digest(entries),
                    True,
                    etag=tree_etag((o["Key"][len(key) + 1 :], _etag(o)) for o in kept),
                    mtime=max((o["LastModified"].timestamp() for o in kept), default=None),
                )
            else:
                hexd, size = self._upload_file(tm, local, uri)
                head = self._retrying(uri, "stat", lambda: self._head(bucket, key)) or {}
                info = ObjectInfo(
                    uri,
                    size,
                    format_digest(hexd),
                    False,
                    etag=_etag(head),
                    mtime=head["LastModified"].timestamp() if "LastModified" in head else None,
                    version_id=_version(head),
                )
                self._remove_stale(uri, keep=set(), drop_file=False)
        if move:
            _remove_local(local)
        return info

    def _remove_stale(self, uri: str, keep: set[str], drop_file: bool) -> list[dict[str, Any]]:
        """After a put, drop what the previous artifact at ``uri`` left that the new one lacks;
        return the listing of the objects kept under ``uri + "/"``."""
        bucket, key = split_s3_uri(uri)

        def once() -> list[dict[str, Any]]:
            listed = list(self._keys(bucket, key + "/"))
            stale = [o["Key"] for o in listed if o["Key"] not in keep]
            if drop_file and self._head(bucket, key) is not None:
                stale.append(key)
            self._delete_keys(bucket, stale)
            return [o for o in listed if o["Key"] in keep]

        return self._retrying(uri, "replace", once)

    def get_path(self, uri: str, local: Path) -> ObjectInfo:
        info = self.stat(uri)
        if info is None:
            raise ArtifactNotFoundError(f"no artifact at {uri}: check the URI or the upstream task")
        local = plain_path(local)
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_sibling(local)
        try:
            with self._manager() as tm:
                if info.is_dir:
                    digest = self._download_dir(tm, info.uri, tmp)
                else:
                    digest = format_digest(self._download_file(tm, info.uri, info.size, info.etag, tmp))
            install(tmp, local)
        except BaseException:
            _remove_local(tmp)
            raise
        return ObjectInfo(info.uri, info.size, digest, info.is_dir, etag=info.etag, mtime=info.mtime)

    def _download_dir(self, tm: TransferManager, uri: str, tmp: Path) -> str:
        bucket, key = split_s3_uri(uri)
        objects = self._retrying(uri, "list", lambda: list(self._keys(bucket, key + "/")))
        todo: list[tuple[str, dict[str, Any]]] = []
        for obj in objects:
            rel = obj["Key"][len(key) + 1 :]
            if rel.endswith("/"):
                continue  # a "folder" marker made by some consoles
            parts = PurePosixPath(rel).parts
            if not parts or ".." in parts or rel.startswith("/"):
                raise ArtifactStoreError(f"refusing to download key {obj['Key']!r} under {uri}: unsafe path")
            todo.append((rel, obj))
        tmp.mkdir()

        def one(item: tuple[str, dict[str, Any]]) -> tuple[str, str]:
            rel, obj = item
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            etag = str(obj.get("ETag", "")).strip('"') or None
            return rel, self._download_file(tm, f"{uri}/{rel}", int(obj["Size"]), etag, dest)

        return dir_digest(self._map(one, todo))

    # -- metadata and small objects -----------------------------------------------------------

    def local_path(self, uri: str) -> Path | None:
        split_s3_uri(uri)
        return None

    def stat(self, uri: str) -> ObjectInfo | None:
        bucket, key = split_s3_uri(uri)
        uri = f"s3://{bucket}/{key}"

        def once() -> ObjectInfo | None:
            head = self._head(bucket, key) if key else None
            if head is not None:
                return ObjectInfo(
                    uri,
                    int(head["ContentLength"]),
                    None,
                    False,
                    _etag(head),
                    head["LastModified"].timestamp(),
                    version_id=_version(head),
                )
            size, mtime, etags = 0, 0.0, []
            prefix = key + "/" if key else ""
            for obj in self._keys(bucket, prefix):
                size += int(obj["Size"])
                mtime = max(mtime, obj["LastModified"].timestamp())
                etags.append((obj["Key"][len(prefix) :], _etag(obj)))
            return ObjectInfo(uri, size, None, True, tree_etag(etags), mtime) if etags else None

        return self._retrying(uri, "stat", once)

    def read_bytes(self, uri: str) -> bytes:
        bucket, key = split_s3_uri(uri)
        return self._retrying(uri, "read", lambda: self.client.get_object(Bucket=bucket, Key=key)["Body"].read())

    def iter_bytes(self, uri: str, *, limit: int | None = None, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        """Stream an object (at most ``limit`` bytes, by a ranged GET) for the experiments UI (issue 12)."""
        bucket, key = split_s3_uri(uri)
        extra = {"Range": f"bytes=0-{limit - 1}"} if limit else {}
        if limit == 0:
            return
        body = self._retrying(uri, "read", lambda: self.client.get_object(Bucket=bucket, Key=key, **extra)["Body"])
        try:
            yield from body.iter_chunks(chunk_size)
        except Exception as exc:
            raise self._error(exc, uri, "read") from exc
        finally:
            body.close()

    def write_bytes(self, uri: str, data: bytes, *, if_absent: bool = False) -> bool:
        bucket, key = split_s3_uri(self.ensure_under_root(uri))
        if not if_absent:
            self._retrying(uri, "write", lambda: self.client.put_object(Bucket=bucket, Key=key, Body=data))
            return True
        for attempt in range(5):
            if not self._conditional_put:
                return self._write_if_absent_fallback(uri, data)
            try:
                self._retrying(
                    uri, "write", lambda: self.client.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
                )
                return True
            except ArtifactStoreError as err:
                cause = err.__cause__
                if not isinstance(cause, ClientError):
                    raise
                code, status = _code(cause), _status(cause)
                if code == "PreconditionFailed" or status == 412:
                    return False  # someone else's object is there: they won
                if code == "NotImplemented" or status == 501:
                    log.warning("%s does not support conditional PUT; if_absent is check-then-put", self.endpoint)
                    self._conditional_put = False
                    continue
                if code == "ConditionalRequestConflict" or status == 409:
                    time.sleep(0.05 * (2**attempt))  # a racing conditional write is in flight
                    continue
                raise
        return self.stat(uri) is None and self._write_if_absent_fallback(uri, data)

    def _write_if_absent_fallback(self, uri: str, data: bytes) -> bool:
        """For stores without If-None-Match: narrow race, but never a torn object."""
        if self.stat(uri) is not None:
            return False
        self.write_bytes(uri, data)
        return True

    def list_uris(self, prefix_uri: str) -> list[str]:
        bucket, _ = split_s3_uri(prefix_uri)
        prefix = prefix_uri[len(f"s3://{bucket}/") :]
        keys = self._retrying(prefix_uri, "list", lambda: [o["Key"] for o in self._keys(bucket, prefix)])
        return sorted(f"s3://{bucket}/{k}" for k in keys if not k.endswith("/"))

    def _delete_keys(self, bucket: str, keys: list[str]) -> None:
        for i in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[i : i + 1000]]
            resp = self.client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            errors = resp.get("Errors") or []
            if errors:
                first = errors[0]
                raise ArtifactStoreError(
                    f"could not delete {len(errors)} object(s) in bucket {bucket!r}, first "
                    f"s3://{bucket}/{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
                )

    def delete(self, uri: str, *, recursive: bool = False) -> None:
        bucket, key = split_s3_uri(self.ensure_under_root(uri))

        def once() -> None:
            children = [o["Key"] for o in self._keys(bucket, key + "/")]
            if children and not recursive:
                raise ArtifactStoreError(f"{uri} is a non-empty directory: pass recursive=True to delete it")
            self._delete_keys(bucket, [*children, key] if key else children)

        self._retrying(uri, "delete", once)

    def presigned_url(self, uri: str, method: str = "GET", expires_s: int = 3600) -> str | None:
        bucket, key = split_s3_uri(uri)
        ops = {"GET": "get_object", "PUT": "put_object"}
        if method.upper() not in ops:
            raise ValueError(f"presigned_url supports GET and PUT, not {method!r}")
        if method.upper() == "PUT":
            self.ensure_under_root(uri)
        return str(
            self.client.generate_presigned_url(
                ops[method.upper()], Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s
            )
        )

    def signing_lifetime(self) -> float | None:
        """Seconds until the credentials that sign presigned URLs expire (IRSA, an assumed role, SSO),
        or None for credentials without an expiry (access keys). A URL signed with temporary
        credentials stops working when they expire, whatever its own ``ExpiresIn``."""
        import datetime

        try:
            credentials = self.client._request_signer._credentials
        except AttributeError:  # pragma: no cover - a client without a signer signs nothing
            return None
        expiry = getattr(credentials, "_expiry_time", None)
        if expiry is None:
            return None
        if hasattr(credentials, "get_frozen_credentials"):
            credentials.get_frozen_credentials()  # refreshes credentials about to expire first
            expiry = getattr(credentials, "_expiry_time", expiry)
        now = datetime.datetime.now(datetime.UTC)
        return max(0.0, (expiry - now).total_seconds())

    # -- presigned multipart uploads (k8s helper, issue 16: pods upload outputs of any size) -------
    def _create_upload(self, uri: str) -> str:
        bucket, key = split_s3_uri(uri)
        created = self._retrying(
            uri, "start the upload of", lambda: self.client.create_multipart_upload(Bucket=bucket, Key=key)
        )
        return str(created["UploadId"])

    def start_multipart(self, uri: str, part_count: int, expires_s: int) -> tuple[str, list[str]]:
        """Start a multipart upload at ``uri``; (upload id, presigned UploadPart URLs for parts 1..n)."""
        bucket, key = split_s3_uri(uri)
        upload_id = self._create_upload(uri)
        urls = [
            str(
                self.client.generate_presigned_url(
                    "upload_part",
                    Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": n},
                    ExpiresIn=expires_s,
                )
            )
            for n in range(1, part_count + 1)
        ]
        return upload_id, urls

    def copy_parts(self, uri: str, upload_id: str, sources: list[tuple[int, str]]) -> list[dict[str, Any]]:
        """Make each ``(part number, source uri)`` object a part of the upload at ``uri``, copied inside
        S3 (``UploadPartCopy``: no byte passes through here; a source is at most 5 GiB); the parts' ETags."""
        bucket, key = split_s3_uri(uri)

        def one(item: tuple[int, str]) -> dict[str, Any]:
            number, source = item
            src_bucket, src_key = split_s3_uri(source)
            done = self._retrying(
                uri,
                f"copy part {number} of",
                lambda: self.client.upload_part_copy(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource={"Bucket": src_bucket, "Key": src_key},
                ),
            )
            return {"PartNumber": number, "ETag": str(done["CopyPartResult"]["ETag"])}

        return list(self._map(one, sources))

    def assemble(self, uri: str, sources: list[str]) -> None:
        """A new object at ``uri`` made of the objects ``sources``, in order, copied inside S3; it
        appears whole or not at all (the upload is aborted on failure)."""
        upload_id = self._create_upload(uri)
        try:
            parts = self.copy_parts(uri, upload_id, list(enumerate(sources, start=1)))
            self.complete_multipart(uri, upload_id, parts)
        except BaseException:
            bucket, key = split_s3_uri(uri)
            try:
                self.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            except Exception as exc:  # the original failure matters more; the caller aborts what is left
                log.warning("could not abort the upload of %s: %s", uri, type(exc).__name__)
            raise

    def complete_multipart(self, uri: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
        """Make the uploaded parts the object at ``uri`` (it appears whole, or not at all)."""
        bucket, key = split_s3_uri(uri)
        body = {"Parts": [{"PartNumber": int(p["PartNumber"]), "ETag": str(p["ETag"])} for p in parts]}
        self._retrying(
            uri,
            "complete the upload of",
            lambda: self.client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload=body
            ),
        )

    def abort_multipart(self, prefix_uri: str, keep: set[str] | None = None) -> list[str]:
        """Abort every unfinished multipart upload under ``prefix_uri`` (but the ids in ``keep``);
        their parts are deleted and no object appears. Returns the keys aborted."""
        bucket, prefix = split_s3_uri(prefix_uri)
        aborted: list[str] = []

        def once() -> None:
            paginator = self.client.get_paginator("list_multipart_uploads")
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for upload in page.get("Uploads") or []:
                    if upload["UploadId"] in (keep or set()):
                        continue
                    self.client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                    aborted.append(upload["Key"])

        self._retrying(prefix_uri, "abort the unfinished uploads under", once)
        return aborted


def _etag(obj: Mapping[str, Any]) -> str | None:
    """An ETag from a HEAD or a listing, without its quotes."""
    return str(obj.get("ETag", "")).strip('"') or None


def _version(head: Mapping[str, Any]) -> str | None:
    """The object's version id; S3 reports "null" for objects written before versioning was on."""
    version = head.get("VersionId")
    return str(version) if version and version != "null" else None


def _remove_local(path: Path) -> None:
    from airflow_kfp.stores.local import _remove

    _remove(path)


def _truthy(value: Any) -> bool | str:
    """``verify`` may be a bool, a "false"-like string, or a CA bundle path."""
    if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
        return False
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
        return True
    return value if isinstance(value, str) else bool(value)


def connection_settings(conn_id: str) -> dict[str, Any]:
    """boto3 settings from an Airflow connection (our extras or the amazon provider's)."""
    try:
        from airflow.sdk import BaseHook
    except ImportError:  # pragma: no cover - Airflow 2 style installs
        from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined]
    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:
        raise ArtifactStoreError(
            f"cannot load Airflow connection {conn_id!r} for the artifact store ({type(exc).__name__}): "
            f"define it (e.g. env AIRFLOW_CONN_{conn_id.upper()}) or fix [kfp] artifact_conn_id"
        ) from None
    extra: dict[str, Any] = dict(conn.extra_dejson or {})
    s3_service = (extra.get("service_config") or {}).get("s3") or {}
    config_kwargs: dict[str, Any] = dict(extra.get("config_kwargs") or {})
    endpoint = extra.get("endpoint_url") or s3_service.get("endpoint_url")
    if not endpoint and conn.host and "://" in str(conn.host):
        endpoint = conn.host  # the amazon provider's older spelling
    style = (
        extra.get("addressing_style")
        or (config_kwargs.get("s3") or {}).get("addressing_style")
        or ("path" if endpoint else None)
    )
    if extra.get("role_arn"):
        log.warning("connection %r sets role_arn; the artifact store does not assume roles", conn_id)
    return {
        "aws_access_key_id": conn.login or extra.get("aws_access_key_id"),
        "aws_secret_access_key": conn.password or extra.get("aws_secret_access_key"),
        "aws_session_token": extra.get("aws_session_token"),
        "region_name": extra.get("region_name") or extra.get("region"),
        "endpoint_url": endpoint,
        "verify": _truthy(extra["verify"]) if "verify" in extra else None,
        "addressing_style": style,
        "config_kwargs": {k: v for k, v in config_kwargs.items() if k not in ("s3", "retries")},
    }


def build_s3_client(conn_id: str | None, endpoint_url: str | None, config: Config) -> Any:
    """An S3 client from ``conn_id``, or from boto3's default chain (env, IRSA, instance profile)."""
    settings: dict[str, Any] = connection_settings(conn_id) if conn_id else {}
    endpoint = endpoint_url or settings.get("endpoint_url")
    env_endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    style = settings.get("addressing_style") or ("path" if endpoint or env_endpoint else None)
    if style:
        s3_options: Any = {"addressing_style": style}
        config = config.merge(Config(s3=s3_options))
    if settings.get("config_kwargs"):
        try:
            config = config.merge(Config(**settings["config_kwargs"]))
        except TypeError as exc:
            raise ArtifactStoreError(f"connection {conn_id!r}: bad config_kwargs extra: {exc}") from None
    session = boto3.session.Session(
        aws_access_key_id=settings.get("aws_access_key_id"),
        aws_secret_access_key=settings.get("aws_secret_access_key"),
        aws_session_token=settings.get("aws_session_token"),
        region_name=settings.get("region_name"),
    )
    client_kwargs: dict[str, Any] = {"config": config}
    if endpoint:
        client_kwargs["endpoint_url"] = endpoint
    if settings.get("verify") is not None:
        client_kwargs["verify"] = settings["verify"]
    return session.client("s3", **client_kwargs)
