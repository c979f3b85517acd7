"""One source of truth per concept: images, placeholders, quantities and durations (issue 11 items 4-6)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from airflow_kfp import dsl
from airflow_kfp.cache.key import cache_key
from airflow_kfp.config import KfpSettings
from airflow_kfp.runtime import placeholders as rp
from airflow_kfp.spec.durations import parse_duration
from airflow_kfp.spec.images import KFP_DEFAULT_BASE_IMAGE, effective_image
from airflow_kfp.spec.quantities import cpu_millis, memory_bytes


@dsl.component
def plain() -> int:
    return 1


@dsl.component(base_image="registry.example.com/ml:1")
def own_image() -> int:
    return 1


@dsl.container_component
def shell(text: str):
    return dsl.ContainerSpec(image="alpine:3", command=["echo", text])


def _task(component, **calls):
    captured = {}

    @dsl.pipeline(name="images")
    def images():
        task = component()
        for method, value in calls.items():
            getattr(task, method)(value)
        captured["task"] = task

    spec = images.spec
    task = spec.tasks[0]
    return spec.components[task.component], task


def test_effective_image_one_answer() -> None:
    component, task = _task(plain)
    assert effective_image(component, task) == KFP_DEFAULT_BASE_IMAGE
    assert effective_image(component, task, "registry/ml:py") == "registry/ml:py"
    component, task = _task(own_image)
    assert effective_image(component, task, "registry/ml:py") == "registry.example.com/ml:1"
    component, task = _task(plain, set_container_image="img:2")
    assert effective_image(component, task, "registry/ml:py") == "img:2"


def test_the_pod_the_cache_key_and_lineage_agree_on_the_default_image() -> None:
    from airflow_kfp.runners.pod.spec import image_for

    component, task = _task(plain)
    settings = KfpSettings(default_image="registry/ml:py")
    assert image_for(component, task, settings) == effective_image(component, task, settings.default_image)
    keys = {
        cache_key(component, task, {}, {}, image=effective_image(component, task, img)) for img in ("", "a:1", "b:1")
    }
    assert len(keys) == 3  # changing [kfp] default_image invalidates the cache


def test_every_exported_placeholder_resolves_the_same_in_commands_and_values() -> None:
    values = {key: f"value-of-{key}" for key in rp.PIPELINE_CONTEXT_KEYS}
    exported = [
        dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        dsl.PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER,
        dsl.PIPELINE_JOB_ID_PLACEHOLDER,
        dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
        dsl.PIPELINE_TASK_ID_PLACEHOLDER,
        dsl.PIPELINE_ROOT_PLACEHOLDER,
        dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER,
        dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER,
    ]
    assert sorted(p.strip("{}$.") for p in exported) == sorted(rp.PIPELINE_CONTEXT_KEYS)
    resolver = rp.Resolver({"inputs": {"parameterValues": {}}, "outputs": {}}, values)
    for placeholder in exported:
        in_command = resolver.resolve([f"--x={placeholder}"])
        in_value = rp.substitute_pipeline_placeholders(f"--x={placeholder}", values)
        assert in_command == [in_value] and "value-of-" in in_value
    with pytest.raises(rp.PlaceholderError, match="unknown placeholder"):
        resolver.resolve(["{{$.pipeline_nope}}"])


@pytest.mark.parametrize(
    "text",
    ["128974848", "129e6", "129M", "128974848000m", "123Mi", "1e3", "100n", "0.5", "2Gi", "1G", "1k", "+1"],
)
def test_kubernetes_documentation_quantities_are_accepted(text: str) -> None:
    assert memory_bytes(text) >= 0 and cpu_millis(text) >= 0


def test_quantities_compare_by_value() -> None:
    assert memory_bytes("129e6") == memory_bytes("129M") == Decimal(129_000_000)
    assert memory_bytes("128974848000m") == memory_bytes("128974848")
    assert cpu_millis("0.1") == cpu_millis("100m") == 100
    assert cpu_millis("100n") == Decimal("0.0001")


@pytest.mark.parametrize("text", ["abc", "", "12Mix", "1e", "-1", "1 Gi", "two"])
def test_garbage_quantities_keep_the_clear_messages(text: str) -> None:
    with pytest.raises(ValueError, match="is not a memory quantity; use a number with an optional suffix"):
        memory_bytes(text)
    with pytest.raises(ValueError, match="is not a CPU quantity; use cores like '2'"):
        cpu_millis(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3600s", timedelta(hours=1)),
        ("1.5h", timedelta(minutes=90)),
        ("300ms", timedelta(milliseconds=300)),
        ("1h30m", timedelta(minutes=90)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(days=14)),
        ("90", timedelta(seconds=90)),
        (90, timedelta(seconds=90)),
        ("P30D", timedelta(days=30)),
        ("PT12H", timedelta(hours=12)),
    ],
)
def test_durations_in_kfp_and_kubernetes_forms(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["abc", "", "-1s", "P", "5 apples", True])
def test_garbage_durations_keep_the_clear_message(text: object) -> None:
    with pytest.raises(ValueError, match="is not a duration; write it like '30s'"):
        parse_duration(text)  # type: ignore[arg-type]
