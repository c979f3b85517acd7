"""Airflow's simple auth manager with per-DAG restriction, for the api-server the UI tests start.

The simple auth manager grants by role only; this subclass denies users whose name starts with
``restricted`` every DAG listed in ``KFP_UI_TEST_HIDDEN_DAGS``, through the same hook the
api-server's own routes consult (``is_authorized_dag``), so the plugin is checked as Airflow is.
"""

from __future__ import annotations

import os
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager


class RestrictedSimpleAuthManager(SimpleAuthManager):
    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        hidden = {d for d in os.environ.get("KFP_UI_TEST_HIDDEN_DAGS", "").split(",") if d}
        if str(getattr(user, "username", "")).startswith("restricted"):
            if details is None or details.id is None or details.id in hidden:
                return False
        return super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)
