"""A private mosquitto broker as a child process, on a free loopback port.

Used by the demo, the tests and the benchmarks, never by a production lane or hub (production
brokers run under systemd with the config the project generates). Started as root, mosquitto drops
to the ``mosquitto`` user, so its directory and files are made readable by that user.

Two modes: a plain anonymous listener (the default, what the demo and most tests use), and
:meth:`Mosquitto.with_tls`, whose listener, certificates and ACL are the ones
:mod:`provisioning.broker` generates for production, so tests check the real security lines.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from sitegate.netutil import free_port, spawn, stop_group, wait_for_port

if TYPE_CHECKING:
    from provisioning.broker import BrokerConfig
    from provisioning.ca import CertificateAuthority

TLS_NAMES = ("127.0.0.1", "localhost")


class BrokerError(RuntimeError):
    pass


class Mosquitto:
    def __init__(
        self, *, port: int | None = None, extra_config: str = "", workdir: Path | None = None
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._extra_config = extra_config
        self._own_dir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="sitegate-mosquitto-"))
        self._proc: subprocess.Popen[bytes] | None = None
        self.tls: BrokerConfig | None = None

    @classmethod
    def with_tls(
        cls,
        ca: CertificateAuthority,
        *,
        hub_identities: Sequence[str] | None = None,
        revoked_serials: Iterable[int] | None = None,
        port: int | None = None,
        extra_config: str = "",
    ) -> Mosquitto:
        """A broker with the production TLS listener and ACL, its server certificate from ``ca``.

        Certificates, key, ACL (and a CRL when ``revoked_serials`` is given) go under its own
        working directory, which the ``mosquitto`` user can reach (pytest's tmp_path cannot).
        """
        from provisioning.broker import provision_broker  # cryptography only for TLS brokers
        from provisioning.ca import HUB_IDENTITY

        mosq = cls(port=port, extra_config=extra_config)
        os.chmod(mosq.workdir, 0o755)  # noqa: S103 - mosquitto drops to its own user and must read this
        try:
            mosq.tls = provision_broker(
                mosq.workdir / "tls",
                ca,
                TLS_NAMES,
                host=mosq.host,
                port=mosq.port,
                hub_identities=hub_identities or (HUB_IDENTITY,),
                revoked_serials=revoked_serials,
                persistence=False,
                max_queued_messages=100000,
            )
        except BaseException:
            mosq.close()
            raise
        return mosq

    @property
    def log_path(self) -> Path:
        return self.workdir / "mosquitto.log"

    @property
    def pid_file(self) -> Path:
        """The broker's pid while it runs, for a hub that reloads it itself (``broker_pid_file``:
        mosquitto writes its own only when it daemonises)."""
        return self.workdir / "mosquitto.pid"

    def config_text(self) -> str:
        if self.tls is None:
            listener = f"listener {self.port} {self.host}\nallow_anonymous true"
        else:
            listener = self.tls.listener_text().rstrip("\n")
        return "\n".join(
            [
                "per_listener_settings false",
                listener,
                "persistence false",
                f"log_dest file {self.log_path}",
                "log_type error",
                "log_type warning",
                "log_type notice",
                "max_queued_messages 100000",
                self._extra_config,
                "",
            ]
        )

    def start(self, timeout: float = 10.0) -> Mosquitto:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise BrokerError("mosquitto is not installed (make test / make demo install it)")
        os.chmod(self.workdir, 0o755)  # noqa: S103 - mosquitto drops to its own user and must read this
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(self.config_text())
        conf.chmod(0o644)
        _writable_by_broker_only(self.log_path)
        # Its own process group, stopped whole by stop(); stderr to the log (a pipe nobody reads
        # could fill up and block the broker).
        with self.log_path.open("ab") as log:
            self._proc = spawn([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=log)
        self.pid_file.write_text(f"{self._proc.pid}\n", encoding="ascii")
        deadline = time.monotonic() + timeout
        try:
            wait_for_port(self.host, self.port, timeout)
            self._wait_catching_sighup(deadline)
        except TimeoutError as err:
            self.stop()
            raise BrokerError(
                f"mosquitto was not ready on port {self.port} ({err}): {self.log_path.read_text()}"
            ) from err
        except BaseException:  # interrupted (a signal, a test's timeout): __exit__ will not run
            self.stop()
            raise
        return self

    def _wait_catching_sighup(self, deadline: float) -> None:
        """Until the broker has its SIGHUP handler. mosquitto listens before it installs its signal
        handlers: a SIGHUP in between (a registrar's :meth:`reload` right after the start, on a
        loaded machine) ends it by the signal's default action, as a SIGHUP sent the moment the
        port answered did here (the broker exited with -1, SIGHUP)."""
        assert self._proc is not None
        while not catches_signal(self._proc.pid, signal.SIGHUP):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise TimeoutError(f"mosquitto (pid {self._proc.pid}) never caught SIGHUP")
            time.sleep(0.002)

    def stop(self) -> None:
        """SIGTERM to the broker's process group, SIGKILL after 5 s; safe to call again."""
        proc, self._proc = self._proc, None
        self.pid_file.unlink(missing_ok=True)
        if proc is not None:
            stop_group(proc, grace=5.0)

    def kill(self) -> None:
        """SIGKILL to the broker's process group: no clean shutdown, the way a machine loses it."""
        proc, self._proc = self._proc, None
        self.pid_file.unlink(missing_ok=True)
        if proc is not None:
            stop_group(proc, sig=signal.SIGKILL, grace=0)

    @property
    def pid(self) -> int | None:
        """The broker's pid (and process group id) while it runs."""
        return None if self._proc is None else self._proc.pid

    def reload(self) -> None:
        """SIGHUP: mosquitto (2.0.11) rereads its ACL file and its TLS files, the CRL included; the
        connections already open stay open."""
        if self._proc is None or self._proc.poll() is not None:
            raise BrokerError("mosquitto is not running")
        self._proc.send_signal(signal.SIGHUP)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _writable_by_broker_only(log: Path) -> None:
    """The broker's log, writable by the broker's user only (issue 13: it was 0666, so anyone on
    the machine could forge lines in it). Started as root, mosquitto drops to its ``mosquitto``
    user, which must own the file; started as anyone else it runs as them."""
    log.touch()
    log.chmod(0o640)
    if os.geteuid() != 0:
        return
    try:
        broker = pwd.getpwnam("mosquitto")
    except KeyError:  # no such user: mosquitto stays root, which owns the file already
        return
    os.chown(log, broker.pw_uid, broker.pw_gid)


def catches_signal(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler of its own for ``signum`` (its ``SigCgt`` mask in
    /proc); False once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False
