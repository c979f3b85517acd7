"""Pipelines for the Kubernetes runner tests: every pod setting, and small data-moving components."""

from __future__ import annotations

from airflow_kfp import dsl, kubernetes
from airflow_kfp.dsl import Artifact, Dataset, Input, Markdown, Metrics, Output, OutputPath


@dsl.component(base_image="python:3.12-slim", packages_to_install=["tqdm==4.66.5"])
def produce(rows: int, data: Output[Dataset], folder: Output[Artifact], metrics: Output[Metrics]) -> int:
    import os

    with open(data.path, "w") as fh:
        fh.write("".join(f"{i}\n" for i in range(rows)))
    data.metadata["rows"] = rows
    os.makedirs(os.path.join(folder.path, "sub"), exist_ok=True)
    with open(os.path.join(folder.path, "a.txt"), "w") as fh:
        fh.write("alpha")
    with open(os.path.join(folder.path, "sub", "b.txt"), "w") as fh:
        fh.write("beta")
    metrics.log_metric("rows", rows)
    return rows * 2


@dsl.container_component
def summarise(data: Input[Dataset], folder: Input[Artifact], lines: OutputPath(int), report: Output[Markdown]):
    return dsl.ContainerSpec(
        image="busybox:1.36",
        command=["sh", "-c"],
        args=[
            'wc -l < "$0" | tr -d " " > "$2"; { echo "# files"; ls "$1" "$1/sub"; } > "$3"',
            data.path,
            folder.path,
            lines,
            report.path,
        ],
    )


@dsl.component
def check(report: Input[Markdown], lines: int, doubled: int) -> str:
    text = open(report.path).read()
    return f"{lines}|{doubled}|{'a.txt' in text and 'b.txt' in text}"


@dsl.pipeline(name="kube-everything", description="Uses every Kubernetes setting.")
def everything(rows: int = 5):
    p = produce(rows=rows)
    p.set_cpu_request("500m").set_cpu_limit("2").set_memory_request("1Gi").set_memory_limit("2Gi")
    p.set_accelerator_type("nvidia-tesla-t4").set_accelerator_limit(2)
    p.set_env_variable("MODE", "train")
    kubernetes.use_secret_as_env(p, secret_name="db-creds", secret_key_to_env={"password": "DB_PASSWORD"})
    kubernetes.use_secret_as_volume(p, secret_name="tls-certs", mount_path="/etc/tls", optional=True)
    kubernetes.use_config_map_as_env(p, config_map_name="app-config", config_map_key_to_env={"level": "LOG_LEVEL"})
    kubernetes.use_config_map_as_volume(p, config_map_name="app-files", mount_path="/etc/app")
    kubernetes.mount_pvc(p, pvc_name="datasets", mount_path="/data")
    kubernetes.empty_dir_mount(p, volume_name="scratch", mount_path="/scratch", medium="Memory", size_limit="1Gi")
    kubernetes.add_node_selector(p, label_key="pool", label_value="training")
    kubernetes.add_toleration(p, key="dedicated", operator="Equal", value="ml", effect="NoSchedule")
    kubernetes.add_node_affinity(p, match_expressions=[{"key": "zone", "operator": "In", "values": ["a", "b"]}])
    kubernetes.add_node_affinity(p, match_expressions=[{"key": "spot", "operator": "DoesNotExist"}], weight=50)
    kubernetes.set_image_pull_secrets(p, ["regcred"])
    kubernetes.set_image_pull_policy(p, "Always")
    kubernetes.add_pod_label(p, label_key="team", label_value="ml")
    kubernetes.add_pod_annotation(p, annotation_key="example.com/owner", annotation_value="ML team <ml@example.com>")
    kubernetes.set_security_context(p, run_as_user=1000, run_as_group=1000, run_as_non_root=True, fs_group=2000)
    kubernetes.set_service_account(p, "trainer")
    kubernetes.set_timeout(p, 3600)
    s = summarise(data=p.outputs["data"], folder=p.outputs["folder"])
    s.set_memory_limit("64Mi")
    check(report=s.outputs["report"], lines=s.outputs["lines"], doubled=p.outputs["Output"])


@dsl.pipeline(name="kube-plain")
def plain(rows: int = 4):
    """The data-moving part of ``everything`` without settings a local run cannot honour."""
    p = produce(rows=rows)
    s = summarise(data=p.outputs["data"], folder=p.outputs["folder"])
    check(report=s.outputs["report"], lines=s.outputs["lines"], doubled=p.outputs["Output"])


@dsl.component
def exits(code: int) -> None:
    import sys

    print("line before the failure")
    print("the data is bad")
    sys.exit(code)


@dsl.pipeline(name="kube-failing")
def failing(code: int = 3):
    exits(code=code).set_retry(num_retries=1, backoff_duration="0s")


@dsl.component
def make(data: Output[Dataset]) -> str:
    with open(data.path, "w") as fh:
        fh.write("fresh")
    return "fresh"


@dsl.pipeline(name="kube-single")
def single():
    make()


@dsl.pipeline(name="kube-deferred")
def deferred():
    """One task whose pod is watched by the triggerer while the worker slot is free."""
    kubernetes.set_deferrable(make())


@dsl.component(base_image="registry.example.com/ml/missing-image:1.0")
def from_missing_image() -> str:
    return "never"


@dsl.pipeline(name="kube-unrunnable")
def unrunnable():
    """Pods a cluster cannot run: a GPU no node has (or a quota forbids), and an image that does not exist."""
    make().set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1).set_memory_limit("2Gi")
    from_missing_image()


@dsl.component
def write_big(mib: int, blob: Output[Dataset]) -> None:
    """Writes ``mib`` MiB of non-repeating bytes, 1 MiB at a time."""
    import hashlib

    with open(blob.path, "wb") as fh:
        for i in range(mib):
            fh.write(hashlib.sha256(str(i).encode()).digest() * (1024 * 1024 // 32))


@dsl.component
def read_big(blob: Input[Dataset]) -> str:
    import hashlib

    h, n = hashlib.sha256(), 0
    with open(blob.path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            n += len(chunk)
    return f"{n}:{h.hexdigest()}"


@dsl.component
def write_then_fail(blob: Output[Dataset]) -> None:
    import sys

    with open(blob.path, "wb") as fh:
        fh.write(b"x" * 1000)
    sys.exit(4)


@dsl.pipeline(name="kube-big")
def big(mib: int = 12):
    """A file output uploaded in parts and read back; a failed step leaves no upload behind."""
    w = write_big(mib=mib)
    read_big(blob=w.outputs["blob"])
    write_then_fail()


@dsl.component
def count_items(items: list) -> str:
    return f"{len(items)}:{items[0]}:{items[-1]}"


@dsl.pipeline(name="kube-long-list")
def long_list(items: list = ["a"]):  # noqa: B006 - KFP defaults are plain values
    """A task whose document (a long list parameter) is far above what a pod's environment holds."""
    count_items(items=items)


@dsl.component
def slow_make(seconds: float, data: Output[Dataset]) -> str:
    import time

    time.sleep(seconds)
    with open(data.path, "w") as fh:
        fh.write("made once")
    return "made once"


@dsl.pipeline(name="kube-reattach")
def reattach(seconds: float = 20.0):
    """A pod that outlives the worker that started it."""
    slow_make(seconds=seconds)


@dsl.component
def write_tree(mib: int, tree: Output[Artifact]) -> None:
    """A directory: one ``mib`` MiB file of non-repeating bytes, a small one and an empty one."""
    import hashlib
    import os

    os.makedirs(os.path.join(tree.path, "weights"), exist_ok=True)
    with open(os.path.join(tree.path, "weights", "model.bin"), "wb") as fh:
        for i in range(mib):
            fh.write(hashlib.sha256(str(i).encode()).digest() * (1024 * 1024 // 32))
    with open(os.path.join(tree.path, "config.json"), "w") as fh:
        fh.write('{"layers": 2}')
    open(os.path.join(tree.path, "EMPTY"), "w").close()


@dsl.component
def read_tree(tree: Input[Artifact]) -> str:
    import hashlib
    import os

    lines = []
    for dirpath, _, names in sorted(os.walk(tree.path)):
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
            lines.append(f"{os.path.relpath(path, tree.path)}:{os.path.getsize(path)}:{h.hexdigest()}")
    return "\n".join(lines)


@dsl.component
def write_tree_then_miss(mib: int, tree: Output[Artifact], missing: Output[Dataset]) -> None:
    """Writes ``tree`` (stored, its big file spilled) but not ``missing``: storing the outputs fails midway."""
    import os

    os.makedirs(tree.path, exist_ok=True)
    with open(os.path.join(tree.path, "big.bin"), "wb") as fh:
        fh.write(os.urandom(mib * 1024 * 1024))
    with open(os.path.join(tree.path, "small.txt"), "w") as fh:
        fh.write("small")


@dsl.pipeline(name="kube-big-tree")
def big_tree(mib: int = 12):
    """A directory output holding a file larger than a part, read back; a pod that fails while storing
    its outputs leaves no object, chunk or upload behind."""
    w = write_tree(mib=mib)
    read_tree(tree=w.outputs["tree"])
    write_tree_then_miss(mib=mib)


@dsl.component
def hog(mib: int) -> str:
    """Touches ``mib`` MiB: past the task's memory limit the node kills it (OOMKilled)."""
    block = bytearray(mib * 2**20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    return "survived"


@dsl.pipeline(name="kube-oom")
def oom(mib: int = 512):
    hog(mib=mib).set_memory_limit("256Mi")


@dsl.component
def chatty(lines: int) -> str:
    """Prints ``lines`` numbered lines over a few seconds, so a followed log stream is open while it runs."""
    import time

    for i in range(lines):
        print(f"chatty line {i}", flush=True)
        time.sleep(0.05)
    return "spoke"


@dsl.pipeline(name="kube-chatty")
def chatty_pipeline(lines: int = 60):
    chatty(lines=lines)
