"""The rule "outputs are regular files and folders only" (runtime.regular), without Airflow: what both
runners and both stores apply before anything is read or moved."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from airflow_kfp.runtime import regular, verify
from airflow_kfp.runtime.staging import stage_outputs
from airflow_kfp.runtime.transport import StagingError
from airflow_kfp.stores.artifact_store import ArtifactStoreError
from airflow_kfp.stores.local import LocalArtifactStore


def test_a_fifo_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(regular.IrregularEntryError, match="FIFO"):
        regular.open_regular(str(fifo))  # O_NONBLOCK: refused at once, no writer needed
    with pytest.raises(regular.IrregularEntryError, match="FIFO"):
        verify.hash_path(str(fifo))
    with pytest.raises(regular.IrregularEntryError, match="output artifact 'x': .*pipe is a FIFO"):
        regular.regularise_output("x", str(fifo))


def test_links_and_the_digest_walk(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "a").write_text("a")
    os.symlink(tmp_path, out / "up")
    with pytest.raises(regular.IrregularEntryError, match="symbolic link"):
        list(regular.walk_files(str(out)))  # a linked folder is refused, never skipped
    with pytest.raises(regular.IrregularEntryError, match="up is a symbolic link to the folder"):
        regular.regularise_output("x", str(out), str(tmp_path))  # inside the boundary, but a folder
    os.unlink(out / "up")
    os.symlink("sub/a", out / "b")
    notes = regular.regularise_output("x", str(out))
    assert notes == ["output artifact 'x': resolved the symbolic link b -> sub/a into a copy of the file"]
    assert not os.path.islink(out / "b") and (out / "b").read_text() == "a"
    assert [rel for rel, _ in regular.walk_files(str(out))] == ["b", "sub/a"]


def test_hard_links_become_private_copies(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("x")
    out = tmp_path / "task" / "o"
    out.parent.mkdir()
    os.link(outside, out)
    regular.regularise_output("o", str(out))
    assert os.stat(out).st_nlink == 1 and not os.path.samefile(out, outside)


def test_reserved_temp_names_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / ".x.tmp-0123456789ab").write_text("hidden from the digest")
    with pytest.raises(regular.IrregularEntryError, match="reserved"):
        regular.regularise_output("o", str(out))


def test_stores_refuse_special_files_before_reading(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    work = tmp_path / "w"
    work.mkdir()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(work / "s"))
    sock.close()
    with pytest.raises(ArtifactStoreError, match="is a socket"):
        store.put_path(work, store.uri_for("a", "b"), move=True)
    assert not any((tmp_path / "root").rglob("s"))
    os.unlink(work / "s")
    os.symlink("/etc/hostname", work / "l")
    with pytest.raises(ArtifactStoreError, match="symbolic link"):
        store.put_path(work / "l", store.uri_for("a", "c"))


def test_pod_staging_refuses_before_uploading(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    os.symlink("/etc/hostname", outputs / "data")
    item = {"name": "data", "path": str(outputs / "data"), "uri": "s3://b/k/data", "type": "system.Dataset"}
    with pytest.raises(StagingError, match="output artifact 'data': .* leaves the component's output folder"):
        stage_outputs([item], {})
