"""Artifact URIs as OpenLineage dataset identities.

Follows the OpenLineage naming spec, so the same object seen by another integration (Spark, the
Airflow S3 operators, a warehouse loader) lands on the same node in the lineage graph:
``s3://bucket/key`` is namespace ``s3://bucket``, name ``key``; ``file:///abs/path`` is namespace
``file``, name ``/abs/path``. A ``file://`` URI is decoded as RFC 8089 says (the dataset is the file
it names; a URI recorded before file URIs were encoded names its path verbatim, which is kept when
only that path exists). Bucket URIs are raw keys, as in KFP and boto3: a ``%`` in one is part of the
key, so it is kept as is (the store's own keys hold none: ``stores.layout`` writes ``a:b`` as
``a=3Ab``).
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
        from airflow_kfp.stores.local import file_uri_path

        path = file_uri_path(f"file://{parts.path}") if parts.path else "/"
        host = parts.netloc
        return (f"file://{host}" if host and host != "localhost" else "file"), path
    if scheme in BUCKET_SCHEMES:
        return f"{scheme}://{parts.netloc}", parts.path.lstrip("/") or "/"
    # Anything else (http, a custom store): keep the authority in the namespace, the path as name.
    return f"{scheme}://{parts.netloc}", parts.path or "/"
