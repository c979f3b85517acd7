"""Artifact URIs as OpenLineage dataset identities.

Follows the OpenLineage naming spec, so the same object seen by another integration (Spark, the
Airflow S3 operators, a warehouse loader) lands on the same node in the lineage graph:
``s3://bucket/key`` is namespace ``s3://bucket``, name ``key``; ``file:///abs/path`` is namespace
``file``, name ``/abs/path``. Artifact URIs are not percent-encoded (as in KFP): a ``%`` in one is
part of the key or file name (``stores.layout`` writes ``a:b`` as ``a%3Ab``), so it is kept as is.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

#: Schemes whose authority is a bucket (namespace ``scheme://bucket``, name ``key``).
BUCKET_SCHEMES = ("s3", "s3a", "gs", "wasbs", "abfss", "minio", "oss", "hdfs")


def dataset_identity(uri: str) -> tuple[str, str]:
    """(namespace, name) of the artifact at ``uri``; a plain path is treated as a local file."""
    if "://" not in uri:
        return "file", os.path.abspath(uri)
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "file":
        path = parts.path or "/"
        host = parts.netloc
        return (f"file://{host}" if host and host != "localhost" else "file"), path
    if scheme in BUCKET_SCHEMES:
        return f"{scheme}://{parts.netloc}", parts.path.lstrip("/") or "/"
    # Anything else (http, a custom store): keep the authority in the namespace, the path as name.
    return f"{scheme}://{parts.netloc}", parts.path or "/"
