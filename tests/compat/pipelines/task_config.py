"""``dsl.TaskConfig``: a component that launches another workload receives its own task's settings
(resources, environment, scheduling, volumes), as KFP's backend resolves them for the task.

kfp.local hands a TaskConfig input an empty value (it has no pod), so the task outputs below follow
KFP's documented semantics (sdk ``dsl.TaskConfig``; backend ``driver.getTaskConfigOptions``): a field
listed in ``task_config_passthroughs`` is forwarded; with ``apply_to_task=False`` it is not applied to
the task itself (here: the environment variable is forwarded but not set in the component's process).
"""

from kfp import dsl, kubernetes


@dsl.component(
    base_image="python:3.11",
    task_config_passthroughs=[
        dsl.TaskConfigField.RESOURCES,
        dsl.TaskConfigField.KUBERNETES_TOLERATIONS,
        dsl.TaskConfigField.KUBERNETES_NODE_SELECTOR,
        dsl.TaskConfigPassthrough(field=dsl.TaskConfigField.ENV, apply_to_task=False),
        dsl.TaskConfigPassthrough(field=dsl.TaskConfigField.KUBERNETES_VOLUMES, apply_to_task=True),
    ],
)
def launch(workers: int, task_config: dsl.TaskConfig) -> str:
    import json
    import os

    workload = {
        "workers": workers,
        "resources": task_config.resources,
        "env": task_config.env,
        "nodeSelector": task_config.node_selector,
        "tolerations": task_config.tolerations,
        "claims": [v["persistentVolumeClaim"]["claimName"] for v in task_config.volumes or []],
        "mountPaths": [m["mountPath"] for m in task_config.volume_mounts or []],
        "affinity": task_config.affinity,
        "mode_in_launcher": os.environ.get("MODE"),
    }
    return json.dumps(workload, sort_keys=True)


@dsl.component(base_image="python:3.11")
def plain(config: dsl.TaskConfig = None) -> str:
    return "empty" if config is None or config.resources in (None, {}) else "filled"


@dsl.pipeline(name="task-config")
def pipeline(workers: int = 2):
    task = launch(workers=workers)
    task.set_cpu_request("1").set_cpu_limit("2").set_memory_limit("4Gi")
    task.set_env_variable("MODE", "train")
    kubernetes.add_node_selector(task, label_key="pool", label_value="training")
    kubernetes.add_toleration(task, key="gpu", operator="Exists", effect="NoSchedule")
    kubernetes.mount_pvc(task, pvc_name="shared", mount_path="/shared")
    plain()


_LAUNCHED = {
    "affinity": None,
    "claims": ["shared"],
    "env": [{"name": "MODE", "value": "train"}],
    "mode_in_launcher": None,
    "mountPaths": ["/shared"],
    "nodeSelector": {"pool": "training"},
    "resources": {"limits": {"cpu": "2", "memory": "4Gi"}, "requests": {"cpu": "1"}},
    "tolerations": [{"effect": "NoSchedule", "key": "gpu", "operator": "Exists"}],
    "workers": 2,
}
EXPECTED = {"tasks": {"launch": {"parameters": {"Output": __import__("json").dumps(_LAUNCHED, sort_keys=True)}}}}
NOTES = (
    "kfp.local gives a dsl.TaskConfig input an empty value and applies set_env_variable to the launcher; "
    "KFP's backend (driver.getTaskConfigOptions) fills the passed-through fields and keeps an ENV passthrough "
    "without apply_to_task off the task itself: the expectation of 'launch' follows the backend."
)
