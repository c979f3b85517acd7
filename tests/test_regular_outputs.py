"""Outputs are regular files and folders only (issue 22, item 4), through real DAG runs on the local runner.

Links leaving the output folder, dangling links, links to folders, FIFOs and sockets fail the producing
task with a message naming the pipeline, task, component, output and offending path, and nothing of
them lands under the artifact root; links that stay inside the output folder (a Hugging Face snapshot)
are stored as the files they name; a hard link is stored as a private copy.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from airflow_kfp.runtime.regular import kind


def _specials_under(root: Path) -> list[str]:
    """Everything under the root that is not a regular file or a folder (lstat: links are not followed)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                found.append(f"{path}: {kind(mode)}")
    return found


def _refused(result, capfd, producer: str, *fragments: str) -> str:
    out = capfd.readouterr().out
    assert result.state == "failed", result.states
    assert result.states[producer] == "failed" and result.states["read-data"] == "upstream_failed", result.states
    line = next((ln for ln in out.splitlines() if "not a regular file or folder" in ln), "")
    assert f"task '{producer}'" in line and "output artifact 'data'" in line, out[-3000:]
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_a_link_to_the_components_own_temp_file_is_refused(dag_runner, artifact_root, capfd):
    result = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:own_temp")
    line = _refused(result, capfd, "link-to-own-temp", "leaves the component's output folder", "kfp-own-temp-")
    assert "component 'link-to-own-temp'" in line
    assert _specials_under(artifact_root) == []


def test_a_link_to_a_worker_file_never_reaches_the_root(dag_runner, artifact_root, tmp_path, capfd):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret")
    result = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:link", conf={"target": str(secret)})
    _refused(result, capfd, "link-to-file", "is a symbolic link to", str(secret))
    assert _specials_under(artifact_root) == []
    stored = [p for p in artifact_root.rglob("*") if p.is_file() and ".cache" not in p.parts]
    assert not any("root:$6$" in p.read_text(errors="replace") for p in stored)


def test_a_dangling_link_is_refused(dag_runner, artifact_root, tmp_path, capfd):
    result = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:link", conf={"target": str(tmp_path / "none")})
    _refused(result, capfd, "link-to-file", "leaves the component's output folder")
    assert _specials_under(artifact_root) == []


def test_a_linked_folder_inside_a_folder_output_is_refused_not_skipped(dag_runner, artifact_root, tmp_path, capfd):
    outside = tmp_path / "moving-data"
    outside.mkdir()
    (outside / "weights.bin").write_text("v1")
    result = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:linked_folder", conf={"target": str(outside)})
    _refused(result, capfd, "folder-with-linked-folder", "linked is a symbolic link")
    assert _specials_under(artifact_root) == []


def test_a_fifo_output_is_refused_without_blocking(dag_runner, artifact_root, capfd):
    result = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:fifo")
    _refused(result, capfd, "fifo-output", "is a FIFO (named pipe)")
    assert _specials_under(artifact_root) == []


def test_a_socket_inside_a_folder_output_is_refused(dag_runner, artifact_root, capfd):
    result = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:socket_folder")
    _refused(result, capfd, "socket-in-folder", "control.sock is a socket")
    assert _specials_under(artifact_root) == []


def test_a_hard_link_is_stored_as_a_private_copy(dag_runner, artifact_root, tmp_path):
    outside = tmp_path / "worker-file.txt"
    outside.write_text("original")
    result = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:hard_link", conf={"target": str(outside)})
    assert result.state == "success", result.states
    stored = result.artifact_path("hard-link-to-file", "data")
    assert stored.read_text() == "original" and os.stat(stored).st_nlink == 1
    assert not os.path.samefile(stored, outside)
    outside.write_text("changed by someone else")  # the stored artifact does not change with it
    assert stored.read_text() == "original"
    assert result.manifest("read-data")["parameters"]["Output"] == "original"


def test_links_inside_the_output_folder_are_stored_as_the_files_they_name(dag_runner, artifact_root, capfd):
    """A Hugging Face snapshot folder (files linked to ../../blobs/<sha> in the same tree) and an output
    linked to another output's file: kept as data, so the consumer reads them and the digest covers them."""
    result = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:snapshot")
    assert result.state == "success", result.states
    assert result.manifest("read-snapshot")["parameters"]["Output"] == (
        """['{"hidden": 8}', 'weights']|{"hidden": 8}|links=0"""
    )
    assert _specials_under(artifact_root) == []
    model = result.artifact_path("hf-snapshot", "model")
    assert (model / "snapshots" / "rev1" / "model.safetensors").read_text() == "weights"
    assert "resolved the symbolic link snapshots/rev1/config.json -> ../../blobs/1111" in capfd.readouterr().out
