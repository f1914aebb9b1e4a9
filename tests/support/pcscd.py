"""A real pcscd with the vpcd driver, shared by the session: it is one per machine (/run/pcscd is fixed).

vpcd offers two reader slots whose cards are virtual cards connecting to TCP ports 35963 and 35964
(:class:`hardware.emulators.vicc.VirtualCard`). If a pcscd is already running with those slots, it
is reused and left alone; if it runs without them, or pcscd cannot start, the fixture fails with
pcscd's own words and stops nothing it did not start. Two test sessions on one machine would share
the slots and stop each other's pcscd, so a session holds a file lock while it uses them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest
from smartcard import scard

from sitegate.netutil import spawn, stop_group

VPCD_PORTS: Final = (35963, 35964)
READERS: Final = ("Virtual PCD 00 00", "Virtual PCD 00 01")
PCSCD_SOCKET: Final = Path("/run/pcscd/pcscd.comm")
SESSION_LOCK: Final = Path(tempfile.gettempdir()) / "sitegate-pcscd-tests.lock"
LOCK_WAIT: Final = 90.0


class PcscdError(RuntimeError):
    pass


class PcscDaemon:
    """``pcscd -f`` as a child process; ``stop``/``start`` let a test take the service away."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.ports = VPCD_PORTS
        self.readers = READERS
        self.owned = False  # False when reusing a pcscd someone else started
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 5.0) -> None:
        if _pcscd_answers():
            if all(_listening(port) for port in VPCD_PORTS):
                return  # someone else's pcscd with vpcd: reuse it, never stop it
            raise PcscdError(
                f"a pcscd not started by these tests owns {PCSCD_SOCKET.parent} without vpcd's ports "
                f"{VPCD_PORTS}; stop it (or install vsmartcard-vpcd and restart it) and rerun"
            )
        if os.geteuid() != 0:
            raise PcscdError("pcscd must be started as root (it writes /run/pcscd)")
        with self.log_path.open("ab") as log:
            self._proc = spawn(["pcscd", "-f"], stdout=log, stderr=subprocess.STDOUT)
        self.owned = True
        try:
            self._wait_listening(timeout)
        except BaseException:  # not listening, or interrupted (a signal, a test's timeout)
            self.stop()
            raise

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(_listening(port) for port in VPCD_PORTS):
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise PcscdError(f"pcscd exited at start: {self._log_tail()}")
            if time.monotonic() > deadline:
                raise PcscdError(
                    f"vpcd ports {VPCD_PORTS} not listening after {timeout} s: {self._log_tail()}"
                )
            time.sleep(0.01)

    def stop(self) -> None:
        """SIGTERM our own pcscd (≈1 s) and wait; never touches one we did not start."""
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_group(proc, grace=5.0)  # its process group: SIGTERM, SIGKILL after 5 s

    def wait_empty(self, timeout: float = 3.0) -> None:
        """Until pcscd sees no card in either slot: a card removed by the last test takes one slot poll."""
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
        try:
            deadline = time.monotonic() + timeout
            while True:
                states = [(reader, scard.SCARD_STATE_UNAWARE) for reader in READERS]
                hresult, new = scard.SCardGetStatusChange(context, 0, states)
                if hresult == scard.SCARD_S_SUCCESS and not any(
                    s & scard.SCARD_STATE_PRESENT for _, s, _ in new
                ):
                    return
                assert time.monotonic() < deadline, f"a card stays in a vpcd slot: {new}"
                time.sleep(0.02)
        finally:
            scard.SCardReleaseContext(context)

    def _log_tail(self) -> str:
        text = self.log_path.read_text(errors="replace").strip()
        return text[-600:] or "(no output)"


def _pcscd_answers() -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(PCSCD_SOCKET))
        except OSError:
            return False
    return True


def _listening(port: int) -> bool:
    """From /proc, not by connecting: a connection to a vpcd port would insert a card."""
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].endswith(wanted) and fields[3] == "0A":  # 0A: LISTEN
                return True
    return False


@contextlib.contextmanager
def _slots_locked() -> Iterator[None]:
    """Exclusive use of pcscd and its vpcd slots for this session (another may be running tests)."""
    with SESSION_LOCK.open("a") as lock:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PcscdError(
                        f"another test session has held the vpcd slots ({SESSION_LOCK}) for {LOCK_WAIT:g} s"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscDaemon]:
    with _slots_locked():
        daemon = PcscDaemon(tmp_path_factory.mktemp("pcscd") / "pcscd.log")
        daemon.start()
        try:
            yield daemon
        finally:
            daemon.stop()


@pytest.fixture
def vpcd(pcscd: PcscDaemon) -> PcscDaemon:
    """The session's pcscd, running and with both slots empty."""
    if pcscd.owned and not pcscd.running:
        pcscd.start()  # a test stopped it and failed before starting it again
    pcscd.wait_empty()
    return pcscd
