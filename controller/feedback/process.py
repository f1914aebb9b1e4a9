"""The lane's side of the feedback child process (:mod:`controller.feedback.child`).

:class:`FeedbackProcess` is a :class:`~controller.feedback.worker.Feedback` whose screen and voice
live in a child: each thing to show or say is one JSON line written to the child's stdin with a
non-blocking write (a line is far below PIPE_BUF, so it is written whole or not at all). A child
that has fallen a pipe-full behind loses the line (counted in ``dropped``: a screen it would have
drawn stale anyway); a child that died is a logged lane fault, started again every ``RETRY_S``
by the lane's watcher (:meth:`tick`), and told the lane's state afresh. The child's own faults and
counts come back on its stdout, read without blocking at every tick.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from controller.feedback.build import FeedbackSetup
from controller.feedback.names import MaskedName
from controller.feedback.worker import Feedback, _Fault
from wire.clock import Clock
from wire.labels import LaneState, OfficeRead, Subject
from wire.models import Reason

log = logging.getLogger(__name__)

CHILD = [sys.executable, "-m", "controller.feedback.child"]
STOP_TIMEOUT_S = 3.0


class FeedbackProcess(Feedback):
    def __init__(self, setup: FeedbackSetup, *, clock: Clock | None, command: Sequence[str] = CHILD) -> None:
        grace = setup.display.offline_grace_s if setup.display is not None else 30.0
        super().__init__(
            lane=setup.lane,
            direction=setup.direction,
            levels=setup.levels,
            clock=clock,
            offline_grace_s=grace,
        )
        self.setup = setup
        self.command = list(command)
        self.process: subprocess.Popen[bytes] | None = None
        self.child_status: dict[str, Any] = {}
        self.fault = _Fault("feedback process")
        self.dropped = 0
        self.starts = 0
        self._pending = b""

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self._spawn()
        self.lane_state(LaneState.READY)

    def _spawn(self) -> None:
        self.starts += 1
        try:
            process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError as err:
            self.fault.failed(err)
            return
        assert process.stdin is not None
        assert process.stdout is not None
        os.set_blocking(process.stdin.fileno(), False)
        os.set_blocking(process.stdout.fileno(), False)
        self.process = process
        self._pending = b""
        self.child_status = {}  # a new child has said nothing yet
        self._write(self.setup.model_dump_json().encode() + b"\n")
        if self.state is not None:  # a restarted child: the lane's state, not spoken again
            self._idle(self.state, False, self.level())

    def _write(self, line: bytes) -> None:
        process = self.process
        if process is None or process.stdin is None:
            self.dropped += 1
            return
        try:
            os.write(process.stdin.fileno(), line)
        except BlockingIOError:
            self.dropped += 1
        except OSError as err:  # the child is gone (EPIPE): tick() reaps it and starts another
            self.dropped += 1
            log.debug("feedback child: %s", err)

    def _send(self, message: dict[str, Any]) -> None:
        self._write(json.dumps(message, ensure_ascii=False).encode() + b"\n")

    def _show(self, subject: Subject, person: MaskedName | None, level: int) -> None:
        kind = (
            "reason"
            if isinstance(subject, Reason)
            else "office"
            if isinstance(subject, OfficeRead)
            else "state"
        )
        self._send({"show": subject.value, "kind": kind, "person": person, "level": level})

    def _idle(self, state: LaneState, speak: bool, level: int) -> None:
        self._send({"idle": state.value, "speak": speak, "level": level})

    def tick(self) -> None:
        """On the lane's watcher, every half second: read the child's status, reap and restart it."""
        process = self.process
        if process is not None:
            self._read_status(process)
            code = process.poll()
            if code is not None:
                self.fault.failed(RuntimeError(f"the feedback child exited {code}"))
                self._close_pipes(process)
                self.process = None
        if self.process is None and self._started and self.fault.retry_due():
            self._spawn()
        elif self.process is not None and self.fault.message is not None and self.child_status:
            self.fault.cleared()

    def _read_status(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        try:
            chunk = os.read(process.stdout.fileno(), 65536)
        except OSError:  # nothing to read yet (EAGAIN), or the pipe is gone
            return
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        for line in lines:
            try:
                self.child_status = json.loads(line)
            except ValueError:
                continue

    @property
    def faults(self) -> list[str]:
        own = [f"{self.fault.what}: {self.fault.message}"] if self.fault.message is not None else []
        return own + list(self.child_status.get("faults", []))

    def close(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()  # EOF: the child closes its display and stops its player
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._read_status(process)
        self._close_pipes(process)

    @staticmethod
    def _close_pipes(process: subprocess.Popen[bytes]) -> None:
        for pipe in (process.stdin, process.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()
