"""The operator side of lineage: the OpenLineage provider's hooks, delegating to ``LineageService``.

The provider's listener calls ``get_openlineage_facets_on_start/complete/failure`` and sends the result
through whatever ``[openlineage] transport`` is configured (nothing at all when none is). The START
event is built before ``execute`` runs, in the listener's forked process or thread where the task's
supervisor channel must not be used, so the try is prepared (inputs resolved, output URIs planned)
earlier, in the task's own process, right after template rendering; ``execute`` then reuses that
prepared run, so inputs are resolved once per try.

Put :class:`KfpLineageMixin` before the Airflow operator class in an operator's bases; what it needs
from its host is :class:`LineageHost`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from airflow_kfp.lineage import assets
from airflow_kfp.lineage.service import LineageService, lineage_enabled

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_kfp.manifest import Manifest
    from airflow_kfp.runners.base import TaskRun

log = logging.getLogger(__name__)


class LineageHost(Protocol):
    """What the mixin needs from the operator it is mixed into (``ComponentOperatorMixin`` provides it)."""

    def kfp_prepare_run(self, context: Mapping[str, Any]) -> TaskRun: ...

    def kfp_lineage(self) -> LineageService: ...

    def execute_component(self, context: Mapping[str, Any], *, resumed: bool = False) -> Manifest: ...


class KfpLineageMixin:
    """Reports a component step to OpenLineage and attaches artifact URIs to its asset events."""

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        super().render_template_fields(context, jinja_env)  # type: ignore[misc]
        if not lineage_enabled():
            return
        host: LineageHost = self  # type: ignore[assignment]
        try:
            host.kfp_prepare_run(context)  # START reports these inputs; execute reuses them
        except Exception as exc:  # the task itself reports bad inputs; START just has less to say
            log.debug("lineage: could not prepare the run before execute: %s", exc)

    def execute_component(self, context: Mapping[str, Any], **kwargs: Any) -> Manifest:
        manifest: Manifest = super().execute_component(context, **kwargs)  # type: ignore[misc]
        assets.record_asset_events(self, context, manifest)
        return manifest

    def get_openlineage_facets_on_start(self) -> OperatorLineage:
        host: LineageHost = self  # type: ignore[assignment]
        return host.kfp_lineage().on_start()

    def get_openlineage_facets_on_complete(self, task_instance: Any = None) -> OperatorLineage:
        host: LineageHost = self  # type: ignore[assignment]
        return host.kfp_lineage().on_complete()

    def get_openlineage_facets_on_failure(self, task_instance: Any = None) -> OperatorLineage:
        host: LineageHost = self  # type: ignore[assignment]
        return host.kfp_lineage().on_failure()
