"""``GET /kfp/api/registry``: where the pipeline registry is, for ``airflow_kfp.Client``.

It names the location only (never a credential): a client writes there with its own credentials, so
the location's own permissions decide who may deploy pipelines.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI


def add_routes(app: FastAPI) -> None:
    from airflow.api_fastapi.core_api.security import get_user

    @app.get("/api/registry", summary="Where the pipeline registry is (airflow_kfp.Client uploads there)")
    def registry(user: Any = Depends(get_user)) -> dict[str, Any]:  # noqa: B008  (FastAPI's idiom)
        from airflow_kfp.registry.dags import registry_location

        root, _ = registry_location()
        return {"root": root}
