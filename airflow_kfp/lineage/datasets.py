"""Artifact URIs as OpenLineage dataset identities.

Follows the OpenLineage naming spec, so the same object seen by another integration (Spark, the
Airflow S3 operators, a warehouse loader) lands on the same node in the lineage graph:
``s3://bucket/key`` is namespace ``s3://bucket``, name ``key``; ``file:///abs/path`` is namespace
``file``, name ``/abs/path``. Keys and paths are taken as written, never percent-decoded: the stores
write them raw, and their lossless encoding of run ids puts a literal '%' in them.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

#: Schemes whose authority is a bucket (namespace ``scheme://bucket``, name ``key``).
BUCKET_SCHEMES = ("s3", "s3a", "gs", "wasbs", "abfss", "minio", "oss", "hdfs")


def dataset_identity(uri: str) -> tuple[str, str]:
    """(namespace, name) of the artifact at ``uri``; a plain path is treated as a local file."""
    if "://" not in uri:
        return "file", os.path.abspath(uri)
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "file":
        # This package's file:// URIs are raw paths, never percent-encoded (``hooks/local_store.file_uri``;
        # artifact paths may hold a literal '%' from the store's lossless encoding): the name is the path.
        rest = uri[len("file://") :]
        host, path = ("", rest) if rest.startswith("/") else (rest.partition("/")[0], "/" + rest.partition("/")[2])
        return (f"file://{host}" if host and host != "localhost" else "file"), path or "/"
    if scheme in BUCKET_SCHEMES:  # object keys are raw (a '%' is part of the key), as in the stores
        key = uri.split("://", 1)[1].partition("/")[2]
        return f"{scheme}://{parts.netloc}", key or "/"
    # Anything else (http, a custom store): keep the authority in the namespace, the path as name.
    return f"{scheme}://{parts.netloc}", unquote(parts.path) or "/"
