"""Choose the artifact store for a root URI.

Kept apart from ``artifact_store`` (the interface) so the interface never imports its implementations:
``local_store`` and ``s3_store`` import the interface, and only this module imports them.
"""

from __future__ import annotations

from airflow_kfp.stores.artifact_store import SUPPORTED_SCHEMES, ArtifactStore, UnsupportedURIError
from airflow_kfp.stores.local import LocalArtifactStore


def get_artifact_store(root: str, conn_id: str | None = None, *, outage_window_s: float | None = None) -> ArtifactStore:
    """Build the store for ``root``: ``s3://bucket/prefix``, ``file:///abs`` or a plain path.

    ``outage_window_s``: how long an unreachable or failing endpoint is waited out
    (``[kfp] store_outage_window``; None: its default).
    """
    if root.startswith("s3://"):
        from airflow_kfp.stores.outage import DEFAULT_WINDOW_S
        from airflow_kfp.stores.s3 import S3ArtifactStore  # boto3 is imported only when S3 is used

        window = DEFAULT_WINDOW_S if outage_window_s is None else outage_window_s
        return S3ArtifactStore(root, conn_id=conn_id, outage_window_s=window)
    if root.startswith("file://") or "://" not in root:
        return LocalArtifactStore(root)
    scheme = root.split("://", 1)[0]
    raise UnsupportedURIError(
        f"artifact root {root!r} uses the unsupported scheme {scheme!r}: "
        f"use one of {', '.join(SUPPORTED_SCHEMES)} (S3-compatible stores such as MinIO "
        "are reached with s3:// and an endpoint_url in the connection)"
    )
