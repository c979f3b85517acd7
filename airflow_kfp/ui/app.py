"""The plugin's FastAPI app, mounted by the api-server at ``/kfp``: the JSON API and the pages.

Every route, the OpenAPI schema and unknown paths included, depends on Airflow's ``get_user``
(401/403 without a valid token or session cookie: an app-wide dependency, so a route added later
cannot forget it) and asks the auth manager which DAGs the user may read before touching the
database (``access``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from airflow_kfp.ui import answers, graph_api
from airflow_kfp.ui.access import Visibility, readable_dag_ids, require_readable
from airflow_kfp.ui.answers import MAX_RUNS
from airflow_kfp.ui.artifacts import PREVIEW_LIMIT, Target, check_servable, stream
from airflow_kfp.ui.deps import Session, User, _user_dep

STATIC = Path(__file__).parent / "static"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)


def _split_run(value: str) -> tuple[str, str]:
    dag_id, sep, run_id = value.partition("/")
    if not sep or not dag_id or not run_id:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "name each run as <dag_id>/<run_id>")
    return dag_id, run_id


def create_app() -> FastAPI:
    app = FastAPI(
        title="airflow-kfp experiments",
        description="Experiments, runs with params and metrics, compare, run details and artifacts.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # FastAPI's own schema route takes no dependencies: served below, authenticated
        dependencies=[_user_dep()],
    )

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(user: User) -> dict[str, Any]:
        return app.openapi()

    @app.get("/api/experiments", summary="Experiments with their pipelines, run count, last run, best metric")
    def experiments(
        user: User,
        session: Session,
        metric: Annotated[str | None, Query(max_length=500)] = None,
        mode: Literal["max", "min"] = "max",
    ) -> dict[str, Any]:
        return answers.experiments(session, readable_dag_ids(user, session), metric, mode)

    @app.get("/api/experiment-runs", summary="Runs filed under one experiment, across its pipelines")
    def experiment_runs(
        user: User,
        session: Session,
        experiment: Annotated[str, Query(min_length=1, max_length=500)],
        limit: Annotated[int, Query(ge=1, le=MAX_RUNS)] = 500,
    ) -> dict[str, Any]:
        return answers.experiment_runs(session, readable_dag_ids(user, session), experiment, limit)

    @app.get("/api/runs", summary="Runs of one DAG with params as used, scalar metrics and cache hits")
    def runs(
        user: User,
        session: Session,
        dag_id: Annotated[str, Query(min_length=1, max_length=250)],
        limit: Annotated[int, Query(ge=1, le=MAX_RUNS)] = 500,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        require_readable(user, dag_id, session)
        return answers.runs(session, dag_id, limit, offset)

    @app.get("/api/run", summary="One run: every step in pipeline order with inputs, outputs, artifacts, cache")
    def run(
        user: User,
        session: Session,
        dag_id: Annotated[str, Query(min_length=1, max_length=250)],
        run_id: Annotated[str, Query(min_length=1, max_length=250)],
    ) -> dict[str, Any]:
        require_readable(user, dag_id, session)
        return answers.run(
            session, dag_id, run_id, readable_dag_ids(user, session), visible=Visibility(user, session).manifest
        )

    @app.get("/api/compare", summary="Two or more runs side by side: params, metrics, versions, ROC, artifacts")
    def compare(
        user: User,
        session: Session,
        run: Annotated[list[str], Query(description="<dag_id>/<run_id>, two or more", max_length=50)],
    ) -> dict[str, Any]:
        keys = [_split_run(r) for r in run]
        if len(set(keys)) < 2:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "compare needs two or more different runs")
        for dag_id in {d for d, _ in keys}:
            require_readable(user, dag_id, session)
        return answers.compare(session, keys, visible=Visibility(user, session).manifest)

    @app.get("/api/artifact", summary="Stream an artifact a readable run's manifest names (preview is capped)")
    def artifact(
        user: User,
        session: Session,
        dag_id: Annotated[str, Query(min_length=1, max_length=250)],
        run_id: Annotated[str, Query(min_length=1, max_length=250)],
        task_id: Annotated[str, Query(min_length=1, max_length=250)],
        output: Annotated[str, Query(min_length=1, max_length=250)],
        map_index: int = -1,
        mode: Literal["preview", "download"] = "preview",
        member: Annotated[str | None, Query(max_length=1000)] = None,
    ) -> Response:
        require_readable(user, dag_id, session)
        record = answers.artifact_record(session, dag_id, run_id, task_id, map_index, output)
        Visibility(user, session).check_artifact(dag_id, record)
        uri = check_servable(record)
        return stream(Target(uri, str(record.get("type") or ""), record, output), mode=mode, member=member)

    @app.get("/api/limits", summary="Limits the pages need to know")
    def limits(user: User) -> dict[str, Any]:
        return {"preview_bytes": PREVIEW_LIMIT, "max_runs": MAX_RUNS}

    app.include_router(graph_api.router)

    # -- pages ---------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("ui/", status_code=status.HTTP_307_TEMPORARY_REDIRECT)

    @app.get("/ui/", include_in_schema=False)
    def page(user: User) -> Response:
        index = STATIC / "index.html"
        if not index.is_file():
            return JSONResponse(
                {"detail": "the UI's built assets are missing from the package; rebuild with `npm run build` in ui/"},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return FileResponse(index, headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"})

    assets = {p.name: p for p in (STATIC / "assets").glob("*")} if (STATIC / "assets").is_dir() else {}

    @app.get("/ui/assets/{name}", include_in_schema=False)
    def asset(name: str, user: User, request: Request) -> Response:
        path = assets.get(name)
        if path is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such asset")
        return FileResponse(path, headers={"Cache-Control": "private, max-age=31536000, immutable"})

    @app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(rest: str, user: User) -> Response:
        """Any other path: 404, but only to an authenticated caller (others learn nothing)."""
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")

    return app


app = create_app()
