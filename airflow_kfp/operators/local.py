"""The local execution mode's operator: the Airflow glue around a ``local_runner.LocalRunner``.

The operator resolves the inputs, asks the cache, calls the runner on a miss and publishes the
manifest (all in ``base``); the runner (``local_runner``) runs the component as a subprocess on the
worker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator

from airflow_kfp.config import KfpSettings, Runner
from airflow_kfp.lineage.mixin import KfpLineageMixin
from airflow_kfp.operators.base import ComponentOperatorMixin
from airflow_kfp.runners.base import ComponentRunner, ResolvedInputs, RunResult
from airflow_kfp.runners.local.runner import LocalRunner
from airflow_kfp.stores.artifact_store import ArtifactStore


class LocalComponentOperator(KfpLineageMixin, ComponentOperatorMixin, BaseOperator):
    """Runs one pipeline task in a subprocess; the image is ignored, the worker's Python is used."""

    template_fields: Sequence[str] = ("external_arguments",)
    ui_color = "#e8f0fe"
    kfp_runner = Runner.LOCAL

    def execute(self, context: Any) -> Any:
        return self.execute_component(context)

    def run_component(
        self,
        context: Mapping[str, Any],
        inputs: ResolvedInputs,
        output_uris: dict[str, str],
        store: ArtifactStore,
        settings: KfpSettings,
    ) -> RunResult:
        """The runner's part, on a cache miss: a :class:`LocalRunner` runs the component's code."""
        runner: ComponentRunner = LocalRunner(
            self.pipeline_name, self.effective_task(), self.component_spec, self.launcher_context, self.log
        )
        return runner.run_component(context, inputs, output_uris, store, settings)
