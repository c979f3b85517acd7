"""``to_dag`` and ``to_task_group``: a pipeline as a whole DAG, or as a TaskGroup inside a DAG you already have.

Two steps: ``plan.plan_pipeline`` decides everything as plain data, ``build.build`` creates the
Airflow objects. Neither enters a DAG or group context, so compiling registers nothing by side
effect: the DAG exists where the caller assigns it.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Param, TaskGroup

from airflow_kfp import experiment as _experiment
from airflow_kfp import pipeline_root, templating
from airflow_kfp.collector import gc_paused
from airflow_kfp.compiler.build import OperatorClasses, build
from airflow_kfp.config import KfpSettings, load_settings
from airflow_kfp.core import types as ptypes
from airflow_kfp.dsl.components import BaseComponent
from airflow_kfp.dsl.pipeline import Pipeline, spec_of
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.planning.artifact_inputs import URI_LIST_SCHEMA, import_artifact_inputs, uri_list_inputs
from airflow_kfp.planning.planner import plan_pipeline
from airflow_kfp.planning.workspace import add_workspace
from airflow_kfp.spec.model import ARTIFACT, PipelineSpec

__all__ = ["operator_class_for", "pipeline_params", "to_dag", "to_task_group"]


def _pipeline_tags(spec: PipelineSpec, experiment: str | None) -> list[str]:
    """ui (issue 12): DAG tags naming the pipeline and its experiment."""
    try:
        experiment_tag = _experiment.experiment_tag(spec.name, experiment)
    except ValueError as exc:
        raise PipelineDefinitionError(str(exc)) from exc
    return [_experiment.PIPELINE_TAG, _experiment.PIPELINE_TAG_PREFIX + spec.name, experiment_tag]


def operator_class_for(settings: KfpSettings) -> type:
    if settings.runner == "kubernetes":
        try:
            from airflow_kfp.operators.kubernetes import KubernetesComponentOperator
        except ImportError as exc:  # pragma: no cover - the module ships with the package
            raise PipelineDefinitionError(f"the kubernetes runner is not available: {exc}") from exc
        return KubernetesComponentOperator
    from airflow_kfp.operators.local import LocalComponentOperator

    return LocalComponentOperator


def _settings(overrides: dict[str, Any], spec: PipelineSpec, entry: str) -> tuple[KfpSettings, dict[str, Any]]:
    given = {k: v for k, v in overrides.items() if v is not None}
    root = pipeline_root.chosen_root(spec.name, given.pop("artifact_root", None), spec.pipeline_root, entry)
    if root:
        given["artifact_root"] = root
    try:
        settings = load_settings().with_overrides(**given)
    except ValueError as exc:
        raise PipelineDefinitionError(str(exc)) from exc
    if not root:
        pipeline_root.check_configured(settings.artifact_root)
    return settings, given


def pipeline_params(spec: PipelineSpec, arguments: dict[str, Any] | None = None) -> dict[str, Param]:
    """Pipeline inputs as typed Airflow Params; run conf overrides the defaults."""
    arguments = dict(arguments or {})
    unknown = set(arguments) - {i.name for i in spec.inputs}
    if unknown:
        raise PipelineDefinitionError(
            f"pipeline '{spec.name}': to_dag(arguments=...) names unknown input(s) {sorted(unknown)}."
        )
    params: dict[str, Param] = {}
    uri_lists = uri_list_inputs(spec)
    for spec_input in spec.inputs:
        if spec_input.kind == ARTIFACT:
            if spec_input.has_default:
                continue  # an optional artifact input: a run cannot pass one, so it stays absent
            raise PipelineDefinitionError(  # to_dag first takes it as a URI (planning/artifact_inputs.py)
                f"pipeline '{spec.name}', argument '{spec_input.name}': it is an artifact input, which a Param "
                f"cannot hold; pass the pipeline through planning.artifact_inputs.import_artifact_inputs (as "
                f"to_dag does) so the run gives its URI (a list of URIs for a list of artifacts)."
            )
        json_type = ptypes.JSON_SCHEMA_TYPES[spec_input.type]
        schema_type: Any = (
            json_type if spec_input.default is not None or not spec_input.has_default else [json_type, "null"]
        )
        description = spec_input.description or f"Pipeline input '{spec_input.name}' ({json_type})."
        schema: dict[str, Any] = URI_LIST_SCHEMA if spec_input.name in uri_lists else {}
        if spec_input.name in arguments:
            value = arguments[spec_input.name]
            if not ptypes.value_matches(value, spec_input.type):
                raise PipelineDefinitionError(
                    f"pipeline '{spec.name}', argument '{spec_input.name}': {value!r} is not a {json_type}."
                )
            params[spec_input.name] = Param(value, type=schema_type, description=description, **schema)
        elif spec_input.has_default:
            params[spec_input.name] = Param(spec_input.default, type=schema_type, description=description, **schema)
        else:
            params[spec_input.name] = Param(type=json_type, description=description, **schema)
    return params


@gc_paused()  # see airflow_kfp.collector
def to_dag(
    pipeline: Pipeline | BaseComponent | PipelineSpec,
    *,
    dag_id: str | None = None,
    arguments: dict[str, Any] | None = None,
    runner: str | None = None,
    artifact_root: str | None = None,
    artifact_conn_id: str | None = None,
    enable_caching: bool | None = None,
    max_cache_staleness: str | None = None,
    cache_version: str | None = None,
    cache_scope: str | None = None,
    import_from_dags: str | None = None,
    namespace: str | None = None,
    kfp_settings: dict[str, Any] | None = None,
    emit_assets: bool = False,
    experiment: str | None = None,
    **dag_kwargs: Any,
) -> DAG:
    """A plain Airflow DAG running the pipeline; every DAG argument (schedule, start_date, tags,
    default_args...) passes through, and ``[kfp]`` settings can be overridden for this DAG.
    ``emit_assets=True`` publishes every artifact output as an Airflow Asset (see ``set_output_asset``).
    ``experiment`` files the DAG's runs under a KFP experiment (default: the pipeline's name); one run
    can be filed elsewhere with the run conf key ``kfp_experiment``. An artifact input of the pipeline
    becomes a Param holding the artifact's URI (see ``planning/artifact_inputs.py``).
    ``cache_scope`` shares cache entries with the other DAGs naming the same scope (default: this DAG
    only); ``import_from_dags`` lets this DAG's importers read those DAGs' stored outputs (default:
    its own only). See docs/operating/security.md."""
    spec = import_artifact_inputs(spec_of(pipeline))
    settings, overrides = _settings(
        {
            "runner": runner,
            "artifact_root": artifact_root,
            "artifact_conn_id": artifact_conn_id,
            "enable_caching": enable_caching,
            "max_cache_staleness": max_cache_staleness,
            "cache_version": cache_version,
            "cache_scope": cache_scope,
            "import_from_dags": import_from_dags,
            "namespace": namespace,
            **(kfp_settings or {}),
        },
        spec,
        "to_dag",
    )
    params = dict(dag_kwargs.pop("params", None) or {})
    params.update(pipeline_params(spec, arguments))
    tags = list(dag_kwargs.pop("tags", None) or [])
    for tag in _pipeline_tags(spec, experiment):  # ui (issue 12): the experiments UI finds pipelines by tag
        if tag not in tags:
            tags.append(tag)
    dag_kwargs.setdefault("description", spec.description or None)
    dag_kwargs.setdefault("schedule", None)
    version = spec.digest()
    doc = f"Kubeflow-style pipeline **{spec.name}**, version `{version[:12]}`."
    dag_kwargs.setdefault("doc_md", f"{spec.description}\n\n{doc}" if spec.description else doc)
    dag = DAG(dag_id=dag_id or spec.name, params=params, tags=tags, **dag_kwargs)
    plan = plan_pipeline(add_workspace(spec), emit_assets=emit_assets, pipeline_version=version)
    build(
        plan,
        dag=dag,
        container=None,
        classes=OperatorClasses.for_runner(operator_class_for(settings)),
        settings=settings,
        settings_overrides=overrides,
    )
    dag.kfp_pipeline = spec  # type: ignore[attr-defined]
    return dag


@gc_paused()
def to_task_group(
    pipeline: Pipeline | BaseComponent | PipelineSpec,
    *,
    group_id: str | None = None,
    arguments: dict[str, Any] | None = None,
    dag: DAG | None = None,
    runner: str | None = None,
    artifact_root: str | None = None,
    artifact_conn_id: str | None = None,
    enable_caching: bool | None = None,
    max_cache_staleness: str | None = None,
    cache_version: str | None = None,
    cache_scope: str | None = None,
    import_from_dags: str | None = None,
    namespace: str | None = None,
    kfp_settings: dict[str, Any] | None = None,
    emit_assets: bool = False,
    experiment: str | None = None,
) -> TaskGroup:
    """Place the pipeline as a TaskGroup in an existing DAG (call inside ``with DAG(...)``).

    ``arguments`` may hold constants (passed verbatim, never rendered as Jinja), upstream Airflow
    task outputs (XComArgs) or ``airflow_kfp.Template("{{ ... }}")`` for values Airflow renders when
    the task runs; pipeline inputs not given take their defaults. The enclosing DAG is tagged with the
    pipeline and its ``experiment`` (default: the pipeline's name), as ``to_dag`` does.
    """
    spec = spec_of(pipeline)
    settings, overrides = _settings(
        {
            "runner": runner,
            "artifact_root": artifact_root,
            "artifact_conn_id": artifact_conn_id,
            "enable_caching": enable_caching,
            "max_cache_staleness": max_cache_staleness,
            "cache_version": cache_version,
            "cache_scope": cache_scope,
            "import_from_dags": import_from_dags,
            "namespace": namespace,
            **(kfp_settings or {}),
        },
        spec,
        "to_task_group",
    )
    arguments = templating.as_arguments(dict(arguments or {}))  # literals are data, not Jinja
    unknown = set(arguments) - {i.name for i in spec.inputs}
    if unknown:
        raise PipelineDefinitionError(
            f"pipeline '{spec.name}': to_task_group(arguments=...) names unknown input(s) {sorted(unknown)}; "
            f"its inputs: {[i.name for i in spec.inputs]}."
        )
    for spec_input in spec.inputs:
        if spec_input.name not in arguments and not spec_input.has_default:
            raise PipelineDefinitionError(
                f"pipeline '{spec.name}', argument '{spec_input.name}': the required pipeline input is not "
                f"given; pass it in to_task_group(arguments={{'{spec_input.name}': ...}})."
            )
    group_kwargs: dict[str, Any] = {"dag": dag} if dag is not None else {}
    group = TaskGroup(group_id=group_id or spec.name, tooltip=spec.description, **group_kwargs)
    if group.dag is None:
        raise PipelineDefinitionError(
            f"pipeline '{spec.name}': to_task_group() needs a DAG; call it inside `with DAG(...):` or pass dag=."
        )
    # ui (issue 12): tag the enclosing DAG so the experiments UI lists it
    group.dag.tags = {*group.dag.tags, *_pipeline_tags(spec, experiment)}
    plan = plan_pipeline(
        add_workspace(spec),
        container=group.group_id,
        external_inputs=arguments,
        emit_assets=emit_assets,
        pipeline_version=spec.digest(),
    )
    build(
        plan,
        dag=group.dag,
        container=group,
        classes=OperatorClasses.for_runner(operator_class_for(settings)),
        settings=settings,
        settings_overrides=overrides,
        external_arguments=arguments,
    )
    return group
