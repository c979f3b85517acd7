"""The request dependencies every route shares: Airflow's signed-in user and a database session."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends


def _user_dep() -> Any:
    from airflow.api_fastapi.core_api.security import get_user

    return Depends(get_user)


def _session_dep() -> Any:
    from airflow.api_fastapi.common.db.common import _get_session

    return Depends(_get_session)


User = Annotated[Any, _user_dep()]
Session = Annotated[Any, _session_dep()]
