"""The embedded default's broker (asi_wg/broker.py): a message becomes visible to the worker only
once it is written whole."""

from __future__ import annotations

import os
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from kombu import Connection
from kombu.transport import filesystem, resolve_transport

from asi_wg import broker


def _channel(tmp_path: Path, transport: Any) -> Any:
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    connection = Connection(
        "filesystem://",
        transport=transport,
        transport_options={
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
            "store_processed": False,
        },
    )
    return connection.default_channel


def test_a_message_is_taken_only_once_written_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = _channel(tmp_path, broker.Transport)
    seen_while_writing: list[object] = []
    replace = os.replace

    def renaming(source: str, target: str) -> None:
        # The worker polls at the worst moment: the message's bytes are on disk, not yet named.
        try:
            seen_while_writing.append(channel._get("celery"))
        except Empty:
            seen_while_writing.append(None)
        replace(source, target)

    monkeypatch.setattr(broker.os, "replace", renaming)
    channel._put("celery", {"body": "x" * 10_000})
    assert seen_while_writing == [None]
    assert channel._get("celery") == {"body": "x" * 10_000}
    assert os.listdir(tmp_path / "queue") == []  # nothing left behind


def test_kombus_own_put_lets_a_worker_take_a_message_not_yet_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: kombu's ``_put`` names the file before writing it, so a worker polling in
    between takes an empty message (the embedded worker stopped on it)."""
    channel = _channel(tmp_path, filesystem.Transport)
    dumps = filesystem.dumps
    taken: list[BaseException] = []

    def polled_while_writing(payload: Any) -> str:
        try:
            channel._get("celery")
        except Exception as error:  # noqa: BLE001 - what the worker meets, recorded
            taken.append(error)
        return str(dumps(payload))

    monkeypatch.setattr(filesystem, "dumps", polled_while_writing)
    channel._put("celery", {"body": "x"})
    assert [type(error).__name__ for error in taken] == ["JSONDecodeError"]


def test_filesystem_urls_use_it_in_every_process_that_loads_the_app() -> None:
    import asi_wg.celery  # noqa: F401 - registers it, as the web process and the worker do

    assert resolve_transport("filesystem") is broker.Transport
