"""CreatePVC's request, checked once for parse time and run time; its plan family (issue 14)."""

from __future__ import annotations

import pytest

from airflow_kfp import dsl, kubernetes
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.planning.plan import OperatorFamily
from airflow_kfp.planning.planner import plan_pipeline
from airflow_kfp.spec.pvc import claim_name, pvc_request

GOOD = {"access_modes": ["ReadWriteOnce"], "size": "5Gi"}


def test_a_request_keeps_kfps_storage_class_default_and_none() -> None:
    assert pvc_request({**GOOD, "storage_class_name": ""}).storage_class_name == ""
    assert pvc_request({**GOOD, "storage_class_name": None}).storage_class_name is None
    request = pvc_request({**GOOD, "data_source": {"kind": "VolumeSnapshot", "name": "snap", "apiGroup": "x.io"}})
    assert request.data_source == {"kind": "VolumeSnapshot", "name": "snap", "apiGroup": "x.io"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({**GOOD, "access_modes": ["ReadWrite"]}, "access_modes is ['ReadWrite']"),
        ({**GOOD, "size": "lots"}, "size is 'lots'"),
        ({**GOOD, "size": "0"}, "size is '0'"),
        ({**GOOD, "pvc_name": "a", "pvc_name_suffix": "-b"}, "only one of pvc_name"),
        ({**GOOD, "pvc_name": "Not_A_Name"}, "is not a Kubernetes object name"),
        ({**GOOD, "pvc_name_suffix": "-B"}, "pvc_name_suffix '-B'"),
        ({**GOOD, "data_source": {"name": "x"}}, "data_source is"),
    ],
)
def test_bad_requests_name_the_input_and_the_fix(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        pvc_request(values)
    assert message in str(caught.value)


def test_a_generated_name_is_stable_per_task_instance_and_differs_between_runs() -> None:
    request = pvc_request({**GOOD, "pvc_name_suffix": "-my-pvc"})
    first = claim_name(request, "My Pipeline", ("dag", "run-1", "createpvc", "-1"))
    assert first == claim_name(request, "My Pipeline", ("dag", "run-1", "createpvc", "-1"))
    assert first != claim_name(request, "My Pipeline", ("dag", "run-2", "createpvc", "-1"))
    assert first.startswith("my-pipeline-") and first.endswith("-my-pvc")
    assert claim_name(pvc_request({**GOOD, "pvc_name": "exact"}), "p", ("d", "r", "t", "-1")) == "exact"


@dsl.component
def use(name: str) -> str:
    return name


def test_create_and_delete_are_planned_as_pvc_tasks_and_mounts_wait_for_the_claim() -> None:
    @dsl.pipeline(name="pvc-plan")
    def pipeline() -> None:
        pvc = kubernetes.CreatePVC(pvc_name_suffix="-x", access_modes=["ReadWriteMany"], size="1Gi")
        t = use(name="n")
        kubernetes.mount_pvc(t, pvc_name=pvc.outputs["name"], mount_path="/data")
        kubernetes.DeletePVC(pvc_name=pvc.outputs["name"]).after(t)

    plan = {t.task_id: t for t in plan_pipeline(pipeline.spec).tasks}
    assert plan["createpvc"].family == OperatorFamily.PVC and plan["deletepvc"].family == OperatorFamily.PVC
    assert plan["use"].family == OperatorFamily.COMPONENT
    assert "createpvc" in plan["use"].upstream and set(plan["deletepvc"].upstream) == {"createpvc", "use"}


def test_bad_constants_fail_where_the_pipeline_calls_createpvc() -> None:
    with pytest.raises(PipelineDefinitionError) as caught:

        @dsl.pipeline(name="bad-pvc")
        def pipeline() -> None:
            kubernetes.CreatePVC(pvc_name="a", pvc_name_suffix="-b", access_modes=["ReadWriteOnce"], size="1Gi")

    assert "pipeline 'bad-pvc'" in str(caught.value) and "task 'createpvc'" in str(caught.value)
    assert "only one of pvc_name" in str(caught.value)


@pytest.mark.parametrize("sub_path", ["../other-claim", "a/../../x", "/etc"])
def test_a_sub_path_outside_the_volume_is_refused_where_mount_pvc_is_called(sub_path: str) -> None:
    with pytest.raises(PipelineDefinitionError) as caught:

        @dsl.pipeline(name="escape")
        def pipeline() -> None:
            kubernetes.mount_pvc(use(name="n"), pvc_name="shared", mount_path="/data", sub_path=sub_path)

    message = str(caught.value)
    assert "task 'use'" in message and "mount_pvc" in message and "without '..'" in message


def test_the_authoring_api_and_the_workspace_share_one_definition_of_the_pvc_components() -> None:
    """kubernetes.CreatePVC / DeletePVC are the model's components (spec/pvc_components.py), which the
    workspace transform adds without the DSL; their Python signatures describe the same inputs."""
    from airflow_kfp import kubernetes
    from airflow_kfp.dsl.components import container_component
    from airflow_kfp.spec.pvc_components import CREATE_PVC, DELETE_PVC

    assert kubernetes.CreatePVC.component_spec is CREATE_PVC
    assert kubernetes.DeletePVC.component_spec is DELETE_PVC
    assert container_component(kubernetes._create_pvc).component_spec == CREATE_PVC
    assert container_component(kubernetes._delete_pvc).component_spec == DELETE_PVC
