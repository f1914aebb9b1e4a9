"""sd_notify over a real unix datagram socket, as systemd would receive it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import pytest

from controller.supervision import Notifier, supervise, watchdog_interval


@pytest.fixture
def systemd_socket(tmp_path: Path):
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    yield str(path), sock
    sock.close()


def received(sock: socket.socket) -> list[str]:
    messages = []
    with contextlib.suppress(BlockingIOError):
        while True:
            messages.append(sock.recv(4096).decode())
    return messages


async def test_ready_then_watchdog_only_while_healthy(systemd_socket) -> None:
    address, sock = systemd_socket
    problems: list[str] = []
    task = asyncio.create_task(supervise(Notifier(address), lambda: list(problems), 0.02))
    await asyncio.sleep(0.07)
    first = received(sock)
    assert first[0].startswith("READY=1") and "WATCHDOG=1" in first
    problems.append("reader id_module: no reply to 5 finds in a row")
    await asyncio.sleep(0.02)
    received(sock)
    await asyncio.sleep(0.08)
    withheld = received(sock)
    assert "WATCHDOG=1" not in withheld
    problems.clear()
    await asyncio.sleep(0.06)
    assert "WATCHDOG=1" in received(sock)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_never_ready_while_unhealthy(systemd_socket) -> None:
    address, sock = systemd_socket
    task = asyncio.create_task(supervise(Notifier(address), lambda: ["journal: not writable"], 0.02))
    await asyncio.sleep(0.07)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    messages = received(sock)
    assert not any(m.startswith("READY") or m == "WATCHDOG=1" for m in messages)
    assert any("journal: not writable" in m for m in messages)


def test_outside_systemd_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert Notifier().notify("READY=1") is False


def test_watchdog_interval_is_half_of_systemds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "10000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval() == 5.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert watchdog_interval(default=3.0) == 3.0
