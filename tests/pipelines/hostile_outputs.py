"""Components whose outputs are not regular files (issue 22): links, FIFOs, sockets, hard links, and a
Hugging Face style snapshot folder whose links stay inside the output (which must keep working)."""

from __future__ import annotations

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input, Output


@dsl.component
def link_to_own_temp(data: Output[Dataset]):
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix="kfp-own-temp-")
    os.write(fd, b"temporary bytes")
    os.close(fd)
    os.symlink(tmp, data.path)  # dangles once the temp file is gone


@dsl.component
def link_to_file(target: str, data: Output[Dataset]):
    import os

    os.symlink(target, data.path)  # e.g. /etc/shadow: a worker file the UI would serve


@dsl.component
def folder_with_linked_folder(target: str, data: Output[Dataset]):
    import os

    os.makedirs(os.path.join(data.path, "kept"))
    with open(os.path.join(data.path, "kept", "a.txt"), "w") as f:
        f.write("a")
    os.symlink(target, os.path.join(data.path, "linked"))  # a folder whose data can change unseen


@dsl.component
def fifo_output(data: Output[Dataset]):
    import os
    import time

    os.mkfifo(data.path)
    # Deadlock breaker for the test before the fix (the worker's hashing blocked forever): a child
    # holds the FIFO open read-write and lets go after a while, so a blocked reader sees EOF.
    fd = os.open(data.path, os.O_RDWR | os.O_NONBLOCK)
    if os.fork() == 0:
        devnull = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):
            os.dup2(devnull, std)
        time.sleep(20)
        os.close(fd)
        os._exit(0)
    os.close(fd)


@dsl.component
def socket_in_folder(data: Output[Dataset]):
    import os
    import socket

    os.makedirs(data.path)
    with open(os.path.join(data.path, "a.txt"), "w") as f:
        f.write("a")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(os.path.join(data.path, "control.sock"))
    sock.close()


@dsl.component
def hard_link_to_file(target: str, data: Output[Dataset]):
    import os

    os.link(target, data.path)


@dsl.component
def hf_snapshot(model: Output[Dataset], config: Output[Dataset]):
    """A Hugging Face cache folder: snapshot files are relative links to blobs in the same tree; a second
    output links to a file of the first (both inside the task's output folder)."""
    import os

    blobs = os.path.join(model.path, "blobs")
    snap = os.path.join(model.path, "snapshots", "rev1")
    os.makedirs(blobs)
    os.makedirs(snap)
    for name, text in (("1111", '{"hidden": 8}'), ("2222", "weights")):
        with open(os.path.join(blobs, name), "w") as f:
            f.write(text)
    os.symlink("../../blobs/1111", os.path.join(snap, "config.json"))
    os.symlink("../../blobs/2222", os.path.join(snap, "model.safetensors"))
    os.symlink(os.path.join(snap, "config.json"), config.path)


@dsl.component
def read_snapshot(model: Input[Dataset], config: Input[Dataset]) -> str:
    import os

    snap = os.path.join(model.path, "snapshots", "rev1")
    links = [p for p in (os.path.join(snap, n) for n in sorted(os.listdir(snap))) if os.path.islink(p)]
    texts = [open(os.path.join(snap, n)).read() for n in sorted(os.listdir(snap))]
    return f"{texts}|{open(config.path).read()}|links={len(links)}"


@dsl.component
def read_data(data: Input[Dataset]) -> str:
    import os

    if os.path.isdir(data.path):
        return ",".join(sorted(os.listdir(data.path)))
    return open(data.path).read()


@dsl.pipeline(name="hostile-own-temp")
def own_temp():
    read_data(data=link_to_own_temp().outputs["data"])


@dsl.pipeline(name="hostile-link")
def link(target: str):
    read_data(data=link_to_file(target=target).outputs["data"])


@dsl.pipeline(name="hostile-linked-folder")
def linked_folder(target: str):
    read_data(data=folder_with_linked_folder(target=target).outputs["data"])


@dsl.pipeline(name="hostile-fifo")
def fifo():
    read_data(data=fifo_output().outputs["data"])


@dsl.pipeline(name="hostile-socket")
def socket_folder():
    read_data(data=socket_in_folder().outputs["data"])


@dsl.pipeline(name="hostile-hard-link")
def hard_link(target: str):
    read_data(data=hard_link_to_file(target=target).outputs["data"])


@dsl.pipeline(name="hf-snapshot")
def snapshot():
    made = hf_snapshot()
    read_snapshot(model=made.outputs["model"], config=made.outputs["config"])


# -- URIs a component declares for its outputs (issue 22, item 7) ------------------------------------


@dsl.component
def declare_uri(where: str, data: Output[Dataset]):
    from airflow_kfp import dsl as kfp_dsl

    own = kfp_dsl.get_uri("data")  # <root>/<pipeline>/<dag>/<run>/<task>/<map index>/<try>/data
    root = own.rsplit("/", 7)[0]
    data.uri = {
        "worker-file": "file:///etc/passwd",
        "plain-path": "/etc/passwd",
        "other-dag": f"{root}/victim/victim-dag/manual__2024/secret-task/-1/try-1/data",
        "dot-dot": own.rsplit("/", 1)[0] + "/../../../../../../../etc/passwd",
        "gs-dot-dot": "gs://bucket/a/../../etc/passwd",
        "own-run": own.rsplit("/", 2)[0] + "/elsewhere",
        "model-car": "oci://registry.example/org/model:v1",
    }[where]


@dsl.pipeline(name="hostile-declared-uri")
def declared_uri(where: str):
    read_data(data=declare_uri(where=where).outputs["data"])


# -- output parameter size (issue 22, item 10) ------------------------------------------------------


@dsl.component
def big_parameter(mib: float) -> str:
    return "x" * int(mib * 1024 * 1024)


@dsl.component
def big_parameter_file(mib: float, text: dsl.OutputPath(str)):
    with open(text, "w") as f:
        f.write("y" * int(mib * 1024 * 1024))


@dsl.component
def echo(value: str) -> int:
    return len(value)


@dsl.pipeline(name="big-parameter")
def big_parameters(mib: float = 30.0):
    echo(value=big_parameter(mib=mib).output)


@dsl.pipeline(name="big-parameter-file")
def big_parameter_files(mib: float = 30.0):
    echo(value=big_parameter_file(mib=mib).outputs["text"])
