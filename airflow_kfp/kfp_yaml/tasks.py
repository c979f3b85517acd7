"""Walk a compiled pipeline's DAGs into the model's flat task list with control-flow groups.

The IR nests DAGs: every dsl.If/Elif/Else, ParallelFor and ExitHandler is a task running a DAG
component (``comp-condition-3``, ``comp-for-loop-2``, ``comp-exit-handler-1``; an If/Elif/Else chain
sits in a ``comp-condition-branches-N`` DAG), and values cross those boundaries as DAG inputs
(``pipelinechannel--...``) and DAG outputs. The model instead keeps one list of tasks, each naming its
innermost group, and arguments that point straight at the producing task. So each DAG becomes a
``_Scope`` that resolves its input names to model arguments through the task that runs it, and a
group's outputs resolve to the task inside that produced them (gathered by ``dsl.Collected`` when
the group is a loop, ``dsl.OneOf`` when the IR selects among branches). A DAG component that is none
of these is a nested pipeline and becomes a graph component of its own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from airflow_kfp.core import types as ptypes
from airflow_kfp.kfp_yaml import components as comps
from airflow_kfp.kfp_yaml.conditions import Comparison, ConditionSyntaxError, Literal, parse_condition
from airflow_kfp.kfp_yaml.document import Where, mapping
from airflow_kfp.kfp_yaml.platform import ExecutorPlatform
from airflow_kfp.kfp_yaml.values import constant_of, typed_value, whole_numbers
from airflow_kfp.spec import model as m
from airflow_kfp.spec.model import (
    Argument,
    CachingOptions,
    CollectedArgument,
    ComponentSpec,
    ConcatArgument,
    ConditionSpec,
    ConstantArgument,
    GroupSpec,
    InputSpec,
    LoopItemArgument,
    OneOfArgument,
    OutputSpec,
    PipelineInputArgument,
    PipelineSpec,
    RetryPolicy,
    TaskOutputArgument,
    TaskSpec,
)

ALL_UPSTREAM_COMPLETED = "ALL_UPSTREAM_TASKS_COMPLETED"
_FIELD_SELECTOR = re.compile(r"""^parseJson\(string_value\)\[(?P<q>["'])(?P<field>.*)(?P=q)\]$""")
_INPUT_PLACEHOLDER = re.compile(r"\{\{\$\.inputs\.parameters\[(?P<q>['\"])(?P<name>[^'\"]+)(?P=q)\]\}\}")
_CONTROL_FLOW_NAME = re.compile(r"^(condition|condition-branches|for-loop|exit-handler)-\d+$")

_METADATA_INPUT = re.compile(r"\{\{\$\.inputs\.parameters\['([^']+)'\]\}\}")
"""A placeholder of an importer input in its metadata (KFP's run-time metadata)."""
TASK_KINDS = ("executor", "pipeline", "condition", "branches", "transparent", "loop", "exit_handler")


def _natural(key: str) -> tuple[Any, ...]:
    """KFP numbers control-flow groups with one counter in definition order: walking them by that
    number (``condition-10`` after ``for-loop-9``) lists the groups as the source defined them."""
    flow = _CONTROL_FLOW_NAME.match(key)
    if flow:
        return (0, int(key.rsplit("-", 1)[1]), key)
    return (1, *(str(p).zfill(12) if p.isdigit() else p for p in re.split(r"(\d+)", key)))


class Document:
    """The parts of a compiled pipeline every scope reads: components, executors, platform settings."""

    def __init__(self, spec: dict[str, Any], kubernetes: dict[str, ExecutorPlatform], pipeline: str) -> None:
        self.pipeline = pipeline
        self.components: dict[str, Any] = mapping(spec.get("components"), Where(pipeline, "components"))
        deployment = mapping(spec.get("deploymentSpec"), Where(pipeline, "deploymentSpec"))
        self.executors: dict[str, Any] = mapping(deployment.get("executors"), Where(pipeline, "deploymentSpec"))
        self.kubernetes = kubernetes
        self._built: dict[str, tuple[ComponentSpec, comps.ExecutorSettings | None]] = {}
        self._graphs: dict[str, PipelineSpec] = {}
        self._graphs_in_progress: set[str] = set()

    def component(self, key: str, where: Where) -> dict[str, Any]:
        if key not in self.components:
            raise where.error(f"the task runs component '{key}', which is not in the pipeline's components.")
        return mapping(self.components[key], where.at(key))

    def executor_component(self, key: str, where: Where) -> tuple[ComponentSpec, comps.ExecutorSettings | None]:
        """The model component of an executor-backed IR component (cached: tasks may share one)."""
        if key in self._built:
            return self._built[key]
        name = _component_name(key, self.components)
        at = Where(self.pipeline, f"components.{key}", component=name)
        component = self.component(key, where)
        if component.get("singlePlatformSpecs"):
            raise at.at("singlePlatformSpecs").error(
                "'singlePlatformSpecs' (Vertex AI passthroughs) is not supported; remove it from the component."
            )
        label = str(component.get("executorLabel") or "")
        executor = mapping(self.executors.get(label), Where(self.pipeline, f"deploymentSpec.executors.{label}"))
        exec_at = Where(self.pipeline, f"deploymentSpec.executors.{label}", component=name)
        if not executor:
            raise at.at("executorLabel").error(f"executor '{label}' is not in deploymentSpec.executors.")
        inputs = comps.input_specs(component, at)
        outputs = comps.output_specs(component, at)
        settings: comps.ExecutorSettings | None = None
        implementation: Any
        if "container" in executor:
            implementation, settings = comps.container_executor(executor["container"], exec_at.at("container"))
        elif "importer" in executor:
            implementation = comps.importer_executor(executor["importer"], exec_at.at("importer"))
            outputs = [OutputSpec(name=comps.IMPORTER_OUTPUT, kind=m.ARTIFACT, type=implementation.artifact_class)]
            # metadata computed at run time: its placeholders name the importer's other inputs
            metadata_inputs = [i for i in inputs if i.name != comps.IMPORTER_URI_INPUT]
            text = str(implementation.metadata)
            unknown = sorted(set(_METADATA_INPUT.findall(text)) - {i.name for i in metadata_inputs})
            if unknown or "{{$" in _METADATA_INPUT.sub("", text):
                raise exec_at.at("importer", "metadata").error(
                    f"importer metadata may only hold placeholders of the importer's own inputs "
                    f"({{{{$.inputs.parameters['metadata']}}}}...); it names {unknown or 'another placeholder'}; "
                    f"recompile the pipeline with the kfp SDK."
                )
            inputs = [InputSpec(name=comps.IMPORTER_URI_INPUT, kind=m.PARAMETER, type=ptypes.STRING), *metadata_inputs]
        elif "resolver" in executor or "customJob" in executor:
            kind = "resolver" if "resolver" in executor else "customJob"
            raise exec_at.at(kind).error(
                f"a {kind} executor (a Vertex AI feature) cannot run on Airflow; use a container or Python component."
            )
        else:
            raise exec_at.error(f"unknown executor kind {sorted(executor)}; expected container or importer.")
        try:
            spec = ComponentSpec(
                name=name,
                description=str(component.get("description") or ""),
                inputs=inputs,
                outputs=outputs,
                implementation=implementation,
                task_config_passthroughs=comps.task_config_passthroughs(component, at),
            )
        except ValidationError as exc:
            raise at.error(f"unreadable component ({exc.errors()[0]['msg']}).") from None
        self._built[key] = (spec, settings)
        return self._built[key]

    def graph(self, key: str, where: Where) -> PipelineSpec:
        """A nested pipeline (a DAG component that is not control flow), read as a pipeline of its own."""
        if key in self._graphs:
            return self._graphs[key]
        if key in self._graphs_in_progress:
            raise where.error(f"component '{key}' contains itself.")
        self._graphs_in_progress.add(key)
        component = self.component(key, where)
        name = _component_name(key, self.components)
        spec = read_pipeline(self, component, name, Where(self.pipeline, f"components.{key}", component=name))
        self._graphs_in_progress.discard(key)
        self._graphs[key] = spec
        return spec


def _component_name(key: str, components: dict[str, Any] | None = None) -> str:
    """``comp-train`` is component ``train``; KFP calls its second use ``comp-train-2``."""
    name = key[len("comp-") :] if key.startswith("comp-") else key
    base = re.sub(r"-\d+$", "", key)
    if components is not None and base != key and base in components:
        name = base[len("comp-") :] if base.startswith("comp-") else base
    return name


@dataclass
class _Group:
    """A DAG task that is control flow: its kind, model group and the scope of its own DAG."""

    kind: str
    scope: _Scope
    exit_task: str | None = None


@dataclass
class _Scope:
    """One DAG: how its input names resolve, and the group its tasks belong to."""

    reader: _Reader
    dag: dict[str, Any]
    where: Where
    group: str | None
    parent: _Scope | None = None
    runner: tuple[str, dict[str, Any]] | None = None
    """The task in the parent DAG that runs this DAG (key, task), None for the pipeline's own DAG."""
    item_input: str | None = None
    loop: str | None = None
    after: list[str] = field(default_factory=list)
    children: dict[str, _Group] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    _inputs: dict[str, Argument] = field(default_factory=dict)

    @property
    def tasks(self) -> dict[str, Any]:
        return mapping(self.dag.get("tasks"), self.where.at("tasks"))

    def task(self, key: str, where: Where) -> dict[str, Any]:
        if key not in self.tasks:
            known = ", ".join(sorted(self.tasks)) or "none"
            raise where.error(f"it names task '{key}', which is not in this DAG (its tasks: {known}).")
        return mapping(self.tasks[key], self.where.at("tasks", key))

    # -- inputs ---------------------------------------------------------------------------------
    def input(self, name: str, where: Where) -> Argument:
        if name in self._inputs:
            return self._inputs[name]
        if self.runner is None:
            found = self.reader.pipeline_input(name, where)
        elif name == self.item_input and self.loop is not None:
            found = LoopItemArgument(loop=self.loop)
        else:
            assert self.parent is not None
            key, task = self.runner
            inputs = mapping(task.get("inputs"), self.parent.where.at("tasks", key, "inputs"))
            for kind in ("parameters", "artifacts"):
                spec = mapping(inputs.get(kind), where).get(name)
                if spec is not None:
                    at = self.parent.where.at("tasks", key, "inputs", kind, name)
                    found = self.parent.argument(spec, at.at(), None)
                    break
            else:
                raise where.error(f"the DAG input '{name}' is not given by task '{key}' that runs this DAG.")
        self._inputs[name] = found
        return found

    # -- outputs --------------------------------------------------------------------------------
    def output(self, producer: str, key: str, where: Where) -> Argument:
        """Output ``key`` of task ``producer`` of this DAG, as the model names it."""
        self.task(producer, where)
        kind = self.kinds[producer]
        if kind in ("executor", "pipeline"):
            return TaskOutputArgument(task=producer, output=key)
        group = self.children[producer]
        inner = group.scope.dag_output(key, where)
        if kind != "loop":
            return inner
        if isinstance(inner, TaskOutputArgument | CollectedArgument):
            # A nested loop's output gathered again by the outer loop is one dsl.Collected of the inner
            # task: the model gathers over every loop around the producer that does not hold the reader.
            return CollectedArgument(task=inner.task, output=inner.output)
        raise where.error(
            f"output '{key}' of loop '{producer}' gathers a {inner.kind} value; dsl.Collected of a dsl.OneOf is "
            f"not supported; gather a task output that sits in the loop."
        )

    def dag_output(self, key: str, where: Where) -> Argument:
        outputs = mapping(self.dag.get("outputs"), self.where.at("outputs"))
        at = self.where.at("outputs")
        parameter = mapping(outputs.get("parameters"), at).get(key)
        if parameter is not None:
            at = at.at("parameters", key)
            if "valueFromParameter" in parameter:
                source = parameter["valueFromParameter"]
                pair = _pair(source, "producerSubtask", "outputParameterKey", at.at("valueFromParameter"))
                return self.output(*pair, at)
            if "valueFromOneof" in parameter:
                selectors = parameter["valueFromOneof"].get("parameterSelectors") or []
                return self._one_of(
                    [_pair(s, "producerSubtask", "outputParameterKey", at) for s in selectors], at.at("valueFromOneof")
                )
            raise at.error(f"unreadable DAG output {parameter!r}.")
        artifact = mapping(outputs.get("artifacts"), at).get(key)
        if artifact is not None:
            at = at.at("artifacts", key)
            selectors = artifact.get("artifactSelectors") or []
            pairs = [_pair(s, "producerSubtask", "outputArtifactKey", at) for s in selectors]
            if len(pairs) == 1:
                return self.output(*pairs[0], at)
            return self._one_of(pairs, at.at("artifactSelectors"))
        raise where.error(f"the DAG of this task has no output '{key}'.")

    def _one_of(self, pairs: list[tuple[str, str]], where: Where) -> Argument:
        options = [self.output(p, k, where) for p, k in pairs]
        if len(options) < 2 or not all(isinstance(o, TaskOutputArgument) for o in options):
            raise where.error(
                "dsl.OneOf needs one task output per branch; this one selects among values the model cannot "
                "name (a loop's or a nested OneOf's)."
            )
        return OneOfArgument(options=options)  # type: ignore[arg-type]

    # -- arguments ------------------------------------------------------------------------------
    def argument(self, spec: dict[str, Any], where: Where, target: InputSpec | None) -> Argument:
        """One task input (``inputs.parameters.x`` / ``inputs.artifacts.x``) as a model argument."""
        spec = mapping(spec, where)
        selector = spec.get("parameterExpressionSelector")
        if "componentInputParameter" in spec or "componentInputArtifact" in spec:
            name = spec.get("componentInputParameter") or spec.get("componentInputArtifact")
            found = self.input(str(name), where)
        elif "taskOutputParameter" in spec:
            source = spec["taskOutputParameter"]
            found = self.output(*_pair(source, "producerTask", "outputParameterKey", where), where)
        elif "taskOutputArtifact" in spec:
            source = spec["taskOutputArtifact"]
            found = self.output(*_pair(source, "producerTask", "outputArtifactKey", where), where)
        elif "runtimeValue" in spec:
            value = constant_of(spec["runtimeValue"], where.at("runtimeValue"))
            if target is not None and target.kind == m.PARAMETER:
                value = typed_value(value, target.type, where)
            else:
                value = whole_numbers(value)
            return ConstantArgument(value=value)
        else:
            raise where.error(f"unreadable input {spec!r}.")
        if selector:
            return _select(found, str(selector), where)
        return found


def _pair(source: Any, task_key: str, output_key: str, where: Where) -> tuple[str, str]:
    """``{producerTask: t, outputParameterKey: o}``: both must be there."""
    if not isinstance(source, dict) or not source.get(task_key) or not source.get(output_key):
        raise where.error(f"a reference to a task output needs {task_key} and {output_key}; got {source!r}.")
    return str(source[task_key]), str(source[output_key])


def _select(found: Argument, selector: str, where: Where) -> Argument:
    match = _FIELD_SELECTOR.match(selector.strip())
    if match is None:
        raise where.error(
            f"the parameterExpressionSelector {selector!r} is not supported; only a field of a loop item "
            f'(parseJson(string_value)["field"]) is.'
        )
    if isinstance(found, LoopItemArgument) and found.field is None:
        return LoopItemArgument(loop=found.loop, field=match["field"])
    raise where.error(
        f"the parameterExpressionSelector {selector!r} reads a field of a {found.kind} value; only fields of "
        f"dsl.ParallelFor items are supported. Pass the whole value and read the field in the component."
    )


class _Reader:
    """Reads one pipeline (the root, or a nested pipeline's DAG component) into a PipelineSpec."""

    def __init__(
        self, document: Document, name: str, component: dict[str, Any], where: Where, description: str = ""
    ) -> None:
        self.document = document
        self.name = name
        self.description = description
        self.where = where
        self.component = component
        self.inputs = comps.input_specs(component, where)
        self.tasks: list[TaskSpec] = []
        self.groups: list[GroupSpec] = []
        self.components: dict[str, ComponentSpec] = {}

    def pipeline_input(self, name: str, where: Where) -> Argument:
        if not any(i.name == name for i in self.inputs):
            known = ", ".join(i.name for i in self.inputs) or "none"
            raise where.error(
                f"it reads pipeline input '{name}', which the pipeline does not declare (its inputs: {known})."
            )
        return PipelineInputArgument(name=name)

    # -- classification -------------------------------------------------------------------------
    def _classify(self, scope: _Scope) -> None:
        """Give every task of ``scope`` its kind and, for control flow, a scope of its own."""
        exit_handlers: dict[str, str] = {}
        for key, task in scope.tasks.items():
            task = mapping(task, scope.where.at("tasks", key))
            final = [
                (spec or {}).get("taskFinalStatus", {}).get("producerTask")
                for spec in mapping(mapping(task.get("inputs"), scope.where).get("parameters"), scope.where).values()
            ]
            strategy = mapping(task.get("triggerPolicy"), scope.where).get("strategy")
            for producer in [p for p in final if p]:
                exit_handlers[producer] = key
            if strategy == ALL_UPSTREAM_COMPLETED:
                for dep in task.get("dependentTasks") or []:
                    if re.match(r"^exit-handler-\d+$", str(dep)):
                        exit_handlers.setdefault(str(dep), key)
        for key, task in scope.tasks.items():
            at = scope.where.at("tasks", key, task=key)
            task = mapping(task, at)
            ref = mapping(task.get("componentRef"), at.at("componentRef")).get("name")
            if not ref:
                raise at.at("componentRef").error("the task names no component.")
            component = self.document.component(str(ref), at.at("componentRef"))
            if "dag" not in component:
                scope.kinds[key] = "executor"
                continue
            policy = mapping(task.get("triggerPolicy"), at)
            is_flow_dag = all(
                n.startswith("pipelinechannel--")
                for kind in ("parameters", "artifacts")
                for n in mapping(mapping(component.get("inputDefinitions"), at).get(kind), at)
            )
            if "parameterIterator" in task or "artifactIterator" in task:
                kind = "loop"
            elif policy.get("condition"):
                kind = "condition"
            elif key in exit_handlers and (_CONTROL_FLOW_NAME.match(key) or is_flow_dag):
                kind = "exit_handler"
            elif re.match(r"^condition-branches-\d+$", key) and is_flow_dag:
                kind = "branches"
            elif _CONTROL_FLOW_NAME.match(key) and is_flow_dag:
                kind = "transparent"  # a group with no condition of its own: its tasks belong to the parent
            else:
                kind = "pipeline"
            scope.kinds[key] = kind
            if kind == "pipeline":
                continue
            dag = mapping(component["dag"], Where(self.document.pipeline, f"components.{ref}.dag"))
            child = _Scope(
                reader=self,
                dag=dag,
                where=Where(self.where.pipeline, f"components.{ref}.dag"),
                group=key if kind in ("condition", "loop", "exit_handler") else scope.group,
                parent=scope,
                runner=(key, task),
            )
            if kind == "loop":
                iterator = task.get("parameterIterator") or task.get("artifactIterator") or {}
                child.item_input = str(iterator.get("itemInput") or "")
                child.loop = key
            scope.children[key] = _Group(kind, child, exit_handlers.get(key) if kind == "exit_handler" else None)
            self._classify(child)

    # -- walking --------------------------------------------------------------------------------
    def walk(self, scope: _Scope) -> None:
        keys = sorted(scope.tasks, key=_natural)
        branches = [k for k in keys if scope.kinds[k] == "condition"]
        chain_of: dict[str, tuple[str, bool]] = {}
        if (
            scope.runner is not None
            and scope.parent is not None
            and scope.parent.kinds.get(scope.runner[0]) == "branches"
        ):
            chain_of = self._chain(scope, branches)
        for key in keys:
            task = scope.tasks[key]
            at = scope.where.at("tasks", key, task=key)
            kind = scope.kinds[key]
            after = self._after(scope, key, task, at)
            if kind in ("executor", "pipeline"):
                self._task(scope, key, task, at, after)
                continue
            group = scope.children[key]
            group.scope.after = [*scope.after, *after]
            if kind == "condition":
                chain, is_else = chain_of.get(key, (key, False))
                self.groups.append(
                    GroupSpec(
                        name=key,
                        kind="condition",
                        parent=scope.group,
                        conditions=self._conditions(scope, key, task, at),
                        branches=chain,
                        is_else=is_else,
                    )
                )
            elif kind == "loop":
                self.groups.append(self._loop(scope, key, task, at))
            elif kind == "exit_handler":
                if group.exit_task is None:
                    raise at.error("an exit handler DAG with no exit task.")
                self.groups.append(
                    GroupSpec(name=key, kind="exit_handler", parent=scope.group, exit_task=group.exit_task)
                )
            self.walk(group.scope)

    def _chain(self, scope: _Scope, branches: list[str]) -> dict[str, tuple[str, bool]]:
        """Branches of one If/Elif/Else chain: named after the If; the Else negates every other branch."""
        parsed = {
            k: self._parsed(scope, k, scope.where.at("tasks", k, "triggerPolicy", "condition", task=k))
            for k in branches
        }
        ordered = sorted(branches, key=lambda k: (len(parsed[k]), _natural(k)))
        if not ordered:
            return {}
        chain = ordered[0]
        last = ordered[-1]
        is_else = len(ordered) > 1 and all(c.negate for c in parsed[last])
        return {k: (chain, is_else and k == last) for k in ordered}

    def _parsed(self, scope: _Scope, key: str, where: Where) -> list[Comparison]:
        task = scope.tasks[key]
        text = mapping(task.get("triggerPolicy"), where).get("condition")
        try:
            return parse_condition(str(text))
        except ConditionSyntaxError as exc:
            raise where.error(f"cannot use this condition: {exc}.") from None

    def _conditions(self, scope: _Scope, key: str, task: dict[str, Any], at: Where) -> list[ConditionSpec]:
        where = at.at("triggerPolicy", "condition")
        inputs = mapping(task.get("inputs"), at.at("inputs"))
        parameters = mapping(inputs.get("parameters"), at.at("inputs", "parameters"))

        def operand(o: Any) -> Argument:
            if isinstance(o, Literal):
                return ConstantArgument(value=o.value)
            spec = parameters.get(o.name)
            if spec is None:
                raise where.error(f"the condition reads input '{o.name}', which task '{key}' is not given.")
            return scope.argument(spec, at.at("inputs", "parameters", o.name), None)

        result = []
        for comparison in self._parsed(scope, key, where):
            left, right = operand(comparison.left), operand(comparison.right)
            try:
                result.append(
                    ConditionSpec(left=left, operator=comparison.operator, right=right, negate=comparison.negate)  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                raise where.error(f"cannot express this comparison ({exc.errors()[0]['msg']}).") from None
        return result

    def _loop(self, scope: _Scope, key: str, task: dict[str, Any], at: Where) -> GroupSpec:
        limit = mapping(task.get("iteratorPolicy"), at).get("parallelismLimit")
        parallelism = int(limit) if limit else None
        if "artifactIterator" in task:  # a loop over a list of artifacts: one artifact per iteration
            iterator = mapping(task.get("artifactIterator"), at.at("artifactIterator"))
            name = mapping(iterator.get("items"), at.at("artifactIterator", "items")).get("inputArtifact")
            spec = mapping(mapping(task.get("inputs"), at).get("artifacts"), at).get(str(name))
            if spec is None:
                raise at.at("artifactIterator", "items").error(
                    f"the loop reads input artifact '{name}', which the task is not given."
                )
            artifacts = scope.argument(spec, at.at("inputs", "artifacts", str(name)), None)
            return GroupSpec(name=key, kind="loop", parent=scope.group, items=artifacts, parallelism=parallelism)
        iterator = mapping(task.get("parameterIterator"), at.at("parameterIterator"))
        items_spec = mapping(iterator.get("items"), at.at("parameterIterator", "items"))
        items: Argument
        if "raw" in items_spec:
            try:
                value = json.loads(items_spec["raw"]) if isinstance(items_spec["raw"], str) else items_spec["raw"]
            except ValueError:
                raise at.at("parameterIterator", "items", "raw").error("the loop items are not JSON.") from None
            items = ConstantArgument(value=whole_numbers(value))
        elif "inputParameter" in items_spec:
            name = str(items_spec["inputParameter"])
            spec = mapping(mapping(task.get("inputs"), at).get("parameters"), at).get(name)
            if spec is None:
                raise at.at("parameterIterator", "items").error(
                    f"the loop reads input '{name}', which the task is not given."
                )
            items = scope.argument(spec, at.at("inputs", "parameters", name), None)
        else:
            raise at.at("parameterIterator", "items").error("the loop has no items (raw or inputParameter).")
        return GroupSpec(name=key, kind="loop", parent=scope.group, items=items, parallelism=parallelism)

    def _after(self, scope: _Scope, key: str, task: dict[str, Any], at: Where) -> list[str]:
        """Explicit dependencies (``.after()``): dependentTasks that pass no data, as model task names."""
        inputs = mapping(task.get("inputs"), at.at("inputs"))
        producers: set[str] = set()
        for kind in ("parameters", "artifacts"):
            for spec in mapping(inputs.get(kind), at).values():
                for source in ("taskOutputParameter", "taskOutputArtifact", "taskFinalStatus"):
                    if isinstance(spec, dict) and source in spec:
                        producers.add(str(spec[source].get("producerTask")))
        result: list[str] = []
        for dep in task.get("dependentTasks") or []:
            dep = str(dep)
            if dep in producers:
                continue
            scope.task(dep, at.at("dependentTasks"))
            if scope.kinds.get(dep) == "exit_handler" and scope.children[dep].exit_task == key:
                continue
            result.extend(self._members(scope, dep))
        return list(dict.fromkeys(result))

    def _members(self, scope: _Scope, key: str) -> list[str]:
        if scope.kinds[key] in ("executor", "pipeline"):
            return [key]
        child = scope.children[key].scope
        return [name for k in sorted(child.tasks, key=_natural) for name in self._members(child, k)]

    def _task(self, scope: _Scope, key: str, task: dict[str, Any], at: Where, after: list[str]) -> None:
        ref = str(task["componentRef"]["name"])
        settings: comps.ExecutorSettings | None = None
        if scope.kinds[key] == "pipeline":
            graph = self.document.graph(ref, at.at("componentRef"))
            component = ComponentSpec.of_pipeline(graph)
        else:
            component, settings = self.document.executor_component(ref, at.at("componentRef"))
        self.components[ref] = component
        for unsupported in ("parameterIterator", "artifactIterator"):
            if unsupported in task:
                raise at.at(unsupported).error(
                    "an iterator on a task that is not a DAG; put the task inside a dsl.ParallelFor as the kfp SDK "
                    "does."
                )
        arguments = self._arguments(scope, key, task, component, at)
        policy = mapping(task.get("triggerPolicy"), at.at("triggerPolicy"))
        is_exit = any(g.exit_task == key for g in scope.children.values())
        group = scope.group
        if policy.get("condition"):
            group = f"{key}-condition"
            self.groups.append(
                GroupSpec(
                    name=group,
                    kind="condition",
                    parent=scope.group,
                    conditions=self._conditions(scope, key, task, at),
                    branches=group,
                )
            )
        caching = mapping(task.get("cachingOptions"), at.at("cachingOptions"))
        label = self.document.component(ref, at).get("executorLabel")
        spec = TaskSpec(
            name=key,
            component=ref,
            arguments=arguments,
            after=[a for a in [*scope.after, *after] if a != key],
            display_name=_display_name(key, task),
            env=dict(settings.env) if settings else {},
            resources=self._resources(scope, task, settings, at),
            caching=CachingOptions(
                enable_caching=bool(caching.get("enableCache", False)),
                cache_key=caching.get("cacheKey") or None,
            ),
            retry=_retry(task.get("retryPolicy"), at.at("retryPolicy")),
            ignore_upstream_failure=policy.get("strategy") == ALL_UPSTREAM_COMPLETED and not is_exit,
            kubernetes=self.document.kubernetes.get(str(label), ExecutorPlatform()).for_task(
                lambda reference, where: scope.argument(reference, where, None)
            ),
            group=group,
        )
        self.tasks.append(spec)

    @staticmethod
    def _given(task: dict[str, Any], at: Where) -> dict[str, tuple[dict[str, Any], Where]]:
        """The task's inputs by name, with their YAML paths."""
        inputs = mapping(task.get("inputs"), at.at("inputs"))
        given: dict[str, tuple[dict[str, Any], Where]] = {}
        for kind in ("parameters", "artifacts"):
            for name, spec in mapping(inputs.get(kind), at.at("inputs", kind)).items():
                given[name] = (mapping(spec, at), at.at("inputs", kind, name))
        return given

    def _resources(
        self, scope: _Scope, task: dict[str, Any], settings: comps.ExecutorSettings | None, at: Where
    ) -> m.Resources:
        """The executor's resources; a field set from a pipeline input or task output (its value is a
        placeholder naming a task input) becomes a run-time value of the task."""
        if settings is None:
            return m.Resources()
        resources = settings.resources.model_copy(deep=True)
        given = self._given(task, at) if settings.runtime_resources else {}
        for field_name, text in settings.runtime_resources.items():
            match = _INPUT_PLACEHOLDER.fullmatch(text.strip())
            if match is None or match["name"] not in given:
                raise at.error(
                    f"the resource {field_name} is {text!r}, which names no input of this task; only a whole "
                    f"pipeline input or task output can set a resource."
                )
            spec, where = given[match["name"]]
            resources.runtime_values[field_name] = scope.argument(spec, where, None)
        return resources

    def _arguments(
        self, scope: _Scope, key: str, task: dict[str, Any], component: ComponentSpec, at: Where
    ) -> dict[str, Argument]:
        given = self._given(task, at)
        arguments: dict[str, Argument] = {}
        for name, (spec, where) in given.items():
            target = component.input(name)
            if "taskFinalStatus" in spec:
                continue  # filled by the exit handler
            if target is None:
                if name.startswith("pipelinechannel--") or name in _RESOURCE_INPUTS:
                    continue  # a helper input of a placeholder, read below when used
                known = ", ".join(i.name for i in component.inputs) or "none"
                raise where.error(f"component '{component.name}' has no input '{name}' (its inputs: {known}).")
            value = scope.argument(spec, where, target)
            if isinstance(value, ConstantArgument) and isinstance(value.value, str) and "{{$.inputs." in value.value:
                value = self._template(scope, value.value, given, where)
            arguments[name] = value
        return arguments

    def _template(
        self, scope: _Scope, text: str, given: dict[str, tuple[dict[str, Any], Where]], where: Where
    ) -> Argument:
        """An f-string of pipeline inputs and task outputs, compiled as a constant with placeholders."""
        parts: list[Argument] = []
        position = 0
        for match in _INPUT_PLACEHOLDER.finditer(text):
            if match.start() > position:
                parts.append(ConstantArgument(value=text[position : match.start()]))
            name = match["name"]
            if name not in given:
                raise where.error(f"the value {text!r} reads task input '{name}', which the task is not given.")
            spec, at = given[name]
            parts.append(scope.argument(spec, at, None))
            position = match.end()
        if position < len(text):
            parts.append(ConstantArgument(value=text[position:]))
        return ConcatArgument(parts=parts)

    def spec(self) -> PipelineSpec:
        at = self.where
        dag = mapping(self.component.get("dag"), at.at("dag"))
        root = _Scope(reader=self, dag=dag, where=at.at("dag"), group=None)
        self._classify(root)
        self.walk(root)
        outputs: dict[str, Any] = {}
        for name in [o.name for o in comps.output_specs(self.component, at)]:
            outputs[name] = root.dag_output(name, at.at("dag", "outputs"))
        output_specs = comps.output_specs(self.component, at)
        try:
            return PipelineSpec(
                name=self.name,
                description=self.description,
                inputs=self.inputs,
                outputs=outputs,
                output_specs=output_specs,
                tasks=self.tasks,
                components=self.components,
                groups=self.groups,
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            raise at.at("dag", "outputs").error(
                f"the pipeline's outputs cannot be expressed ({error['msg']} at {'.'.join(map(str, error['loc']))}); "
                f"a pipeline output must be a single task output in this version of airflow-kfp."
            ) from None


_RESOURCE_INPUTS = {
    "cpu_limit",
    "memory_limit",
    "cpu_request",
    "memory_request",
    "accelerator_type",
    "accelerator_count",
}


def _display_name(key: str, task: dict[str, Any]) -> str | None:
    name = (task.get("taskInfo") or {}).get("name")
    return str(name) if name and name != key else None


def _retry(policy: Any, where: Where) -> RetryPolicy | None:
    if not policy:
        return None
    policy = mapping(policy, where)
    retry = RetryPolicy(num_retries=int(policy.get("maxRetryCount") or 0))
    for key, attr in (("backoffDuration", "backoff_duration"), ("backoffMaxDuration", "backoff_max_duration")):
        if policy.get(key) not in (None, ""):
            value = policy[key]
            setattr(retry, attr, value if isinstance(value, str) else f"{value}s")
    if policy.get("backoffFactor") not in (None, 0):
        retry.backoff_factor = float(policy["backoffFactor"])
    return retry


def read_pipeline(
    document: Document, component: dict[str, Any], name: str, where: Where, description: str = ""
) -> PipelineSpec:
    return _Reader(document, name, component, where, description).spec()
