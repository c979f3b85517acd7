"""A component call inside a pipeline, with KFP's task methods (each returns the task)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_kfp.dsl.channels import PipelineChannel, TaskOutputChannel
from airflow_kfp.dsl.formatting import find_hidden_channel, formatted_argument, has_token
from airflow_kfp.dsl.pipeline_context import PipelineBuilder, kfp_name
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec import quantities
from airflow_kfp.spec.messages import where
from airflow_kfp.spec.model import (
    PARAMETER,
    Argument,
    ComponentSpec,
    ConcatArgument,
    ConstantArgument,
    LoopItemArgument,
    PipelineInputArgument,
    RetryPolicy,
    TaskOutputArgument,
    TaskSpec,
    argument_leaves,
)

if TYPE_CHECKING:
    from typing import Self


_RUNTIME_LEAVES = (ConstantArgument, PipelineInputArgument, TaskOutputArgument, LoopItemArgument, ConcatArgument)


class _Outputs(Mapping[str, TaskOutputChannel]):
    def __init__(self, task: PipelineTask) -> None:
        self._task = task
        self._channels = {
            o.name: TaskOutputChannel(task, o.name, o.kind, o.type, o.is_list) for o in task.component_spec.outputs
        }

    def __getitem__(self, name: str) -> TaskOutputChannel:
        if name not in self._channels:
            known = ", ".join(self._channels) or "none"
            raise PipelineDefinitionError(
                f"{where(self._task.builder.name, self._task.name)}: component "
                f"'{self._task.component_spec.name}' has no output '{name}' (its outputs: {known})."
            )
        return self._channels[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._channels)

    def __len__(self) -> int:
        return len(self._channels)


class PipelineTask:
    def __init__(
        self,
        builder: PipelineBuilder,
        component_spec: ComponentSpec,
        component_key: str,
        arguments: dict[str, Any],
    ) -> None:
        self.builder = builder
        self.component_spec = component_spec
        self.name = builder.add_task(self, kfp_name(component_spec.name))
        self.spec = TaskSpec(name=self.name, component=component_key, group=builder.current_group)
        for arg_name, value in arguments.items():
            self.spec.arguments[arg_name] = self._argument(arg_name, value)
        self.outputs = _Outputs(self)

    def _where(self, argument: str | None = None) -> str:
        return where(self.builder.name, self.name, argument)

    def _argument(self, name: str, value: Any):  # type: ignore[no-untyped-def]
        if self.component_spec.input(name) is None:
            known = ", ".join(i.name for i in self.component_spec.inputs) or "none"
            raise PipelineDefinitionError(
                f"{self._where(name)}: component '{self.component_spec.name}' has no input '{name}' "
                f"(its inputs: {known})."
            )
        if isinstance(value, PipelineTask):
            value = value.output
        if isinstance(value, PipelineChannel):
            return value.to_argument()
        if isinstance(value, str):
            try:
                formatted = formatted_argument(self.builder.formatted, value)
            except PipelineDefinitionError as exc:
                raise PipelineDefinitionError(f"{self._where(name)}: {exc}") from None
            if formatted is not None:
                return formatted
        elif isinstance(value, list | tuple | dict):
            hidden = find_hidden_channel(value)
            if hidden is not None:
                raise PipelineDefinitionError(
                    f"{self._where(name)}: {hidden} sits inside a list or dict; a run-time value can be passed "
                    f"whole, or formatted into a string, but not nested in a constant. Pass it as its own "
                    f"argument, or build the list in a component."
                )
        return ConstantArgument(value=value)

    @property
    def output(self) -> TaskOutputChannel:
        """The single output, or the function's return value when it also writes artifacts."""
        if len(self.outputs) != 1 and "Output" in self.outputs:
            return self.outputs["Output"]
        if len(self.outputs) != 1:
            names = ", ".join(self.outputs) or "none"
            raise PipelineDefinitionError(
                f"{self._where()}: .output needs exactly one output, '{self.component_spec.name}' has "
                f"{len(self.outputs)} ({names}); use .outputs['<name>']."
            )
        return self.outputs[next(iter(self.outputs))]

    def after(self, *tasks: PipelineTask) -> Self:
        for task in tasks:
            if task.name not in self.spec.after:
                self.spec.after.append(task.name)
        return self

    def set_display_name(self, name: str) -> Self:
        self.spec.display_name = name
        return self

    def set_env_variable(self, name: str, value: str) -> Self:
        if isinstance(value, PipelineChannel) or has_token(value):
            raise PipelineDefinitionError(
                f"{self._where()}: set_env_variable('{name}', ...): environment values are fixed when the pipeline "
                f"is defined (as in KFP); pass the run-time value as a component argument instead."
            )
        self.spec.env[name] = str(value)
        return self

    def set_container_image(self, image: str) -> Self:
        self.spec.container_image = image
        return self

    def runtime_argument(self, setter: str, value: Any) -> Argument | None:
        """A pipeline input or task output (or an f-string of them) given for a task setting that KFP
        resolves when the task runs (resources, kfp-kubernetes names) as a model argument; None for a
        plain value."""
        if isinstance(value, PipelineTask):
            value = value.output
        argument: Argument | None
        if isinstance(value, PipelineChannel):
            if value.kind != PARAMETER or value.is_list:
                raise PipelineDefinitionError(
                    f"{self._where()}: {setter}: {value!r} is not a parameter; pass a str or int value."
                )
            argument = value.to_argument()
        elif has_token(value):
            argument = formatted_argument(self.builder.formatted, value)
        else:
            return None
        assert argument is not None
        if not all(isinstance(a, _RUNTIME_LEAVES) for a in argument_leaves(argument)):
            raise PipelineDefinitionError(
                f"{self._where()}: {setter}: pass a pipeline input, a task output, a loop item or a constant; "
                f"got {value!r}."
            )
        return argument

    def _runtime_resource(self, field: str, setter: str, value: Any) -> bool:
        """KFP takes a pipeline input or task output (or an f-string of them) for a resource: it is
        resolved when the task runs. Returns whether ``value`` was such a run-time value."""
        argument = self.runtime_argument(setter, value)
        if argument is None:
            self.spec.resources.runtime_values.pop(field, None)
            return False
        self.spec.resources.runtime_values[field] = argument
        setattr(self.spec.resources, field, None)
        return True

    def _quantity(self, setter: str, value: str, parse: Any) -> str:
        try:
            parse(value)
        except ValueError as exc:
            raise PipelineDefinitionError(f"{self._where()}: {setter}: {exc}.") from exc
        return str(value)

    def set_cpu_request(self, cpu: str | PipelineChannel) -> Self:
        if not self._runtime_resource("cpu_request", "set_cpu_request", cpu):
            self.spec.resources.cpu_request = self._quantity("set_cpu_request", cpu, quantities.cpu_millis)  # type: ignore[arg-type]
        return self

    def set_cpu_limit(self, cpu: str | PipelineChannel) -> Self:
        if not self._runtime_resource("cpu_limit", "set_cpu_limit", cpu):
            self.spec.resources.cpu_limit = self._quantity("set_cpu_limit", cpu, quantities.cpu_millis)  # type: ignore[arg-type]
        return self

    def set_memory_request(self, memory: str | PipelineChannel) -> Self:
        if not self._runtime_resource("memory_request", "set_memory_request", memory):
            self.spec.resources.memory_request = self._quantity("set_memory_request", memory, quantities.memory_bytes)  # type: ignore[arg-type]
        return self

    def set_memory_limit(self, memory: str | PipelineChannel) -> Self:
        if not self._runtime_resource("memory_limit", "set_memory_limit", memory):
            self.spec.resources.memory_limit = self._quantity("set_memory_limit", memory, quantities.memory_bytes)  # type: ignore[arg-type]
        return self

    def set_accelerator_type(self, accelerator: str | PipelineChannel) -> Self:
        if not self._runtime_resource("accelerator_type", "set_accelerator_type", accelerator):
            self.spec.resources.accelerator_type = accelerator  # type: ignore[assignment]
        resources = self.spec.resources
        if resources.accelerator_limit is None and "accelerator_limit" not in resources.runtime_values:
            resources.accelerator_limit = 1  # KFP: a type without a count means one
        return self

    def set_accelerator_limit(self, limit: int | str | PipelineChannel) -> Self:
        if self._runtime_resource("accelerator_limit", "set_accelerator_limit", limit):
            return self
        try:
            count = int(limit)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            count = -1
        if count < 0:
            raise PipelineDefinitionError(
                f"{self._where()}: set_accelerator_limit: {limit!r} is not a whole number of accelerators >= 0."
            )
        self.spec.resources.accelerator_limit = count
        return self

    def set_gpu_limit(self, gpu: int | str) -> Self:
        """KFP's deprecated name for set_accelerator_limit."""
        return self.set_accelerator_limit(gpu)

    def set_caching_options(
        self, enable_caching: bool, cache_key: str | None = None, max_staleness: str | None = None
    ) -> Self:
        self.spec.caching.enable_caching = bool(enable_caching)
        self.spec.caching.cache_key = cache_key
        if max_staleness is not None:
            from airflow_kfp.spec.durations import parse_duration

            try:
                parse_duration(max_staleness)
            except ValueError as exc:
                raise PipelineDefinitionError(
                    f"{self._where()}: set_caching_options(max_staleness=...): {exc}."
                ) from None
            self.spec.caching.max_staleness = max_staleness
        return self

    def set_retry(
        self,
        num_retries: int,
        backoff_duration: str | None = None,
        backoff_factor: float | None = None,
        backoff_max_duration: str | None = None,
    ) -> Self:
        from airflow_kfp.spec.durations import parse_duration

        if int(num_retries) < 0:
            raise PipelineDefinitionError(f"{self._where()}: set_retry: num_retries must be >= 0.")
        policy = RetryPolicy(num_retries=int(num_retries))
        if backoff_duration is not None:
            policy.backoff_duration = backoff_duration
        if backoff_factor is not None:
            policy.backoff_factor = float(backoff_factor)
        if backoff_max_duration is not None:
            policy.backoff_max_duration = backoff_max_duration
        for value in (policy.backoff_duration, policy.backoff_max_duration):
            try:
                parse_duration(value)
            except ValueError as exc:
                raise PipelineDefinitionError(f"{self._where()}: set_retry: {exc}.") from exc
        self.spec.retry = policy
        return self

    def ignore_upstream_failure(self) -> Self:
        self.spec.ignore_upstream_failure = True
        return self

    def set_output_asset(self, output: str, uri: str | None = None) -> Self:
        """Publish an artifact output as an Airflow Asset, so other DAGs can be scheduled on it.

        The asset is ``kfp://<pipeline>/<task_id>/<output>`` unless ``uri`` names another one; every
        run's asset event carries the artifact's real URI in its extra.
        """
        spec = self.component_spec.output(output)
        if spec is None or spec.kind != "artifact":
            known = ", ".join(o.name for o in self.component_spec.outputs if o.kind == "artifact") or "none"
            raise PipelineDefinitionError(
                f"{self._where(output)}: set_output_asset: component '{self.component_spec.name}' has no artifact "
                f"output '{output}' (its artifact outputs: {known}); only artifacts can be assets."
            )
        if uri is not None and "://" not in uri:
            raise PipelineDefinitionError(
                f"{self._where(output)}: set_output_asset: uri {uri!r} is not a URI; give one such as "
                f"'s3://bucket/models/churn' or leave it out for the default kfp:// asset."
            )
        self.spec.output_assets[output] = uri
        return self

    def __repr__(self) -> str:
        return f"<PipelineTask '{self.name}' ({self.component_spec.name})>"
