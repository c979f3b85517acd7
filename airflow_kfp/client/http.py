"""Talking to Airflow's api-server: its REST API (``/api/v2``) and the package's ``/kfp`` API.

Authentication is Airflow's own: a user name and password exchanged for a token at ``/auth/token``
(re-exchanged once when a token expires), or a token given directly. The client never reads
Airflow's database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

if TYPE_CHECKING:
    from airflow_kfp.client.models import ArtifactInfo


class ApiException(RuntimeError):
    """An api-server answer that is not a success (KFP's ``kfp_server_api.ApiException``)."""

    def __init__(self, status: int, reason: str, body: str = "") -> None:
        super().__init__(f"({status}) {reason}" + (f": {body}" if body else ""))
        self.status = status
        self.reason = reason
        self.body = body


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:500]
    return detail if isinstance(detail, str) else json.dumps(detail)[:500]


class AirflowApi:
    def __init__(
        self,
        host: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        verify: bool | str = True,
        timeout: float = 60.0,
    ) -> None:
        self.host = host.rstrip("/")
        self._username = username
        self._password = password
        self._token = token
        self.http = httpx.Client(base_url=self.host, verify=verify, timeout=timeout)
        if self._token is None and username is not None:
            self._login()

    def _login(self) -> None:
        if self._username is None or self._password is None:
            raise ApiException(401, "no credentials", "give Client(username=..., password=...) or existing_token=...")
        try:
            response = self.http.post("/auth/token", json={"username": self._username, "password": self._password})
        except httpx.HTTPError as exc:
            raise ApiException(0, f"cannot reach the Airflow api-server at {self.host}", str(exc)) from exc
        if response.status_code not in (200, 201):
            raise ApiException(
                response.status_code,
                f"Airflow refused the user name and password of {self._username!r} at {self.host}/auth/token",
                _detail(response),
            )
        self._token = str(response.json()["access_token"])

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def request(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201, 204), **kwargs: Any
    ) -> httpx.Response:
        for attempt in (1, 2):
            headers = self._headers()
            try:
                response = self.http.request(method, path, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                raise ApiException(0, f"cannot reach the Airflow api-server at {self.host}", str(exc)) from exc
            if response.status_code == 401 and attempt == 1 and self._password is not None:
                self._login()  # the token expired: exchange the credentials again, once
                continue
            if response.status_code not in ok:
                raise ApiException(response.status_code, f"{method} {path}", _detail(response))
            return response
        raise AssertionError("unreachable")

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None}).json()

    def exists(self, path: str) -> bool:
        return self.request("GET", path, ok=(200, 404)).status_code == 200

    @staticmethod
    def dag_path(dag_id: str, *rest: str) -> str:
        return "/".join(["/api/v2/dags", quote(dag_id, safe=""), *(quote(r, safe="") for r in rest)])

    def download_artifact(self, artifact: ArtifactInfo, path: Path) -> Path:
        params: dict[str, str | int] = {
            "dag_id": artifact.dag_id,
            "run_id": artifact.run_id,
            "task_id": artifact.task_id,
            "output": artifact.name,
            "map_index": artifact.map_index,
            "mode": "download",
        }
        with self.http.stream("GET", "/kfp/api/artifact", params=params, headers=self._headers()) as response:
            if response.status_code != 200:
                response.read()
                raise ApiException(response.status_code, f"download of {artifact.uri}", _detail(response))
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        return path
