"""The upload path's digest, computed on a second thread while the transfer reads the file itself."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from airflow_kfp.stores.digest import hash_alongside


def test_digest_and_size_of_a_file_read_in_many_chunks(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)
    path.write_bytes(data)
    seen: list[int] = []

    def transfer() -> str:
        with open(path, "rb") as f:  # the transfer reads the file on its own, as s3transfer does
            while chunk := f.read(65536):
                seen.append(len(chunk))
        return "sent"

    result, hexdigest, size = hash_alongside(path, transfer, chunk_size=1024 * 1024)
    assert result == "sent" and sum(seen) == len(data)
    assert (hexdigest, size) == (hashlib.sha256(data).hexdigest(), len(data))


def test_a_file_changed_during_the_transfer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 1000)

    def transfer() -> None:
        with open(path, "ab") as f:
            f.write(b"more")

    with pytest.raises(ValueError, match="changed while it was being transferred"):
        hash_alongside(path, transfer)


def test_the_transfer_error_wins_and_the_hashing_thread_is_joined(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 10)

    def transfer() -> None:
        raise ConnectionError("endpoint unreachable")

    with pytest.raises(ConnectionError, match="endpoint unreachable"):
        hash_alongside(path, transfer)


def test_an_unreadable_file_raises_in_the_callers_thread(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        hash_alongside(tmp_path / "missing.bin", lambda: None)
