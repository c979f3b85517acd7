"""``GET /kfp/api/registry``: where the pipeline registry is, for ``airflow_kfp.Client``.

It names the location only (never a credential): a client writes there with its own credentials, so
the location's own permissions decide who may deploy pipelines.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from airflow_kfp.ui.deps import User

router = APIRouter()


@router.get("/api/registry", summary="Where the pipeline registry is (airflow_kfp.Client uploads there)")
def registry(user: User) -> dict[str, Any]:
    from airflow_kfp.registry.dags import registry_location

    root, _ = registry_location()
    return {"root": root}
