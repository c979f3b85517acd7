"""The UI's artifact answers check the bytes against the manifest's digest (no server: the streaming
function itself, on a local store), including the paths a small test cannot reach through the
api-server: a download too large to read twice is checked as it streams."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fastapi import HTTPException

from airflow_kfp.runtime import verify
from airflow_kfp.ui import artifacts
from airflow_kfp.ui.artifacts import Target


def _target(path: Path, **record: Any) -> Target:
    digest, size = verify.hash_path(str(path))
    base = {"uri": path.as_uri(), "digest": digest, "size": size, "producer": {"task_id": "train", "run_id": "r1"}}
    return Target(path.as_uri(), "system.Model", {**base, **record}, "model")


async def _drain(response: Any) -> bytes:
    return b"".join([chunk async for chunk in response.body_iterator])


def _body(response: Any) -> bytes:
    return asyncio.run(_drain(response))


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.bin"
    path.write_bytes(b"weights" * 1000)
    return path


def test_an_intact_artifact_is_served_and_marked_checked(model: Path) -> None:
    response = artifacts.stream(_target(model), mode="download")
    assert response.headers["x-artifact-verified"] == "yes"
    assert _body(response) == model.read_bytes()


def test_a_same_size_rewrite_is_refused_before_any_byte(model: Path) -> None:
    target = _target(model)
    model.write_bytes(b"WEIGHTS" * 1000)
    with pytest.raises(HTTPException) as caught:
        artifacts.stream(target, mode="preview")
    assert caught.value.status_code == 409
    assert "artifact 'model'" in caught.value.detail and "task 'train' of run 'r1'" in caught.value.detail


def test_a_size_change_is_refused_without_reading(model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _target(model)
    model.write_bytes(b"short")
    monkeypatch.setattr(artifacts, "_stored_digest", lambda *a: pytest.fail("read the bytes"))
    with pytest.raises(HTTPException) as caught:
        artifacts.stream(target, mode="download")
    assert caught.value.status_code == 409 and "records 7000 bytes, the stored data has 5" in caught.value.detail


def test_a_large_download_is_checked_as_it_streams(model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifacts, "VERIFY_LIMIT", 10)
    intact = artifacts.stream(_target(model), mode="download")
    assert intact.headers["x-artifact-verified"] == "while-streaming"
    assert _body(intact) == model.read_bytes()
    target = _target(model)
    model.write_bytes(b"WEIGHTS" * 1000)
    changed = artifacts.stream(target, mode="download")
    with pytest.raises(HTTPException) as caught:  # the response ends before its last chunk
        _body(changed)
    assert caught.value.status_code == 409


def test_a_large_preview_says_it_was_not_checked(model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifacts, "VERIFY_LIMIT", 10)
    response = artifacts.stream(_target(model), mode="preview", limit=100)
    assert response.headers["x-artifact-verified"] == "too-large"
    assert _body(response) == model.read_bytes()[:100]


def test_an_import_without_digest_is_checked_by_size(model: Path) -> None:
    response = artifacts.stream(_target(model, digest=None), mode="preview")
    assert response.headers["x-artifact-verified"] == "no-digest"
    model.write_bytes(b"other")
    with pytest.raises(HTTPException):
        artifacts.stream(_target(model, digest=None, size=7000), mode="preview")


def test_a_directory_is_checked_as_a_whole(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.csv").write_text("x,y\n1,2\n")
    target = _target(folder)
    listing = artifacts.stream(target, mode="preview")
    assert listing.headers["x-artifact-verified"] == "yes"
    (folder / "sub" / "b.csv").write_text("x,y\n9,9\n")
    with pytest.raises(HTTPException) as caught:
        artifacts.stream(target, mode="download", member="a.txt")
    assert caught.value.status_code == 409
