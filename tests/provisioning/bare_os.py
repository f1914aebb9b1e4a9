"""A bare Debian 12 root to try the site manager's path in (issue 22), cached between runs.

The root is made once, with ``mmdebstrap --variant=minbase`` (or debootstrap) from the Debian mirror
this machine reaches, and kept under ``/var/cache/sitegate-tests/`` keyed by what went into it.
Each test mounts an overlay on it (the test's changes go to a temporary upper layer, thrown away
after), so a warm run starts from a pristine root in milliseconds. Downloads are cached the same
way: the Debian packages the setup script installs (apt's archives and lists, bind-mounted into
the root) and a wheelhouse of SiteGate's Python packages built here (the same Debian, the same
Python 3.11), which the test hands to the script the way a site manager without PyPI would
(``--wheels``).

A chroot lacks what a booted Pi has, and two things are added for that: ``/usr/sbin/policy-rc.d``
so that package installs do not start daemons inside the chroot (on a Pi, systemd starts them),
and dpkg's ``force-unsafe-io`` (a root that is thrown away after the test needs no fsync).
systemd does not run in a chroot: :meth:`Chroot.start_unit` starts a unit's command the way
systemd would (its user, groups, environment and command line, read from the installed unit).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("SITEGATE_TEST_CACHE", "/var/cache/sitegate-tests"))
SUITE = "bookworm"
MIRROR = os.environ.get("SITEGATE_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BUILD_TIMEOUT_S = 900
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")
WHEELS_AT = "/media/usb/wheels"
"""Where the wheelhouse appears in the root: a USB stick the site manager brought."""
EXCLUDED = ("proc", "sys", "dev", "tmp", "run", "media", "var/lib/sitegate", "var/cache/apt", "var/lib/apt")
"""What a snapshot of the root leaves out: mounts, scratch, and the running lane's own data (and
every ``__pycache__``: Python's byte-code caches are written by whatever imports a module first)."""


class NotReachable(Exception):
    """The Debian mirror cannot be reached: the only reason the bare-OS test may be skipped."""


def mirror_problem(timeout_s: float = 15.0) -> str | None:
    """Why the Debian mirror cannot be reached from here, or None."""
    url = f"{MIRROR}/dists/{SUITE}/InRelease"
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s):
            return None
    except (urllib.error.URLError, OSError) as err:
        return f"{url}: {getattr(err, 'reason', err)}"


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """One builder at a time per cache entry, across pytest-xdist workers and concurrent runs."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _tool() -> list[str]:
    if shutil.which("mmdebstrap"):
        return ["mmdebstrap", "--variant=minbase", "--mode=root", "--quiet", SUITE]
    if shutil.which("debootstrap"):
        return ["debootstrap", "--variant=minbase", SUITE]
    raise FileNotFoundError(
        "neither mmdebstrap nor debootstrap is installed: `make test` installs mmdebstrap "
        "(or: apt-get install mmdebstrap)"
    )


def bare_root() -> Path:
    """The cached bare Debian 12 root (made now if missing). Never written to: overlay it."""
    tool = _tool()
    key = _key(tool, MIRROR, platform.machine(), 1)
    home = CACHE / "bare-os" / key
    root = home / "root"
    if (home / "complete").exists():
        return root
    with _locked(f"bare-os-{key}"):
        if (home / "complete").exists():
            return root
        problem = mirror_problem()
        if problem:
            raise NotReachable(problem)
        home.mkdir(parents=True, exist_ok=True)
        building = home / "root.building"
        shutil.rmtree(building, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
        started = time.monotonic()
        subprocess.run([*tool, str(building), MIRROR], check=True, timeout=BUILD_TIMEOUT_S)
        building.rename(root)
        (home / "complete").write_text(f"built in {time.monotonic() - started:.0f} s by {tool[0]}\n")
    return root


def _wheel_requirements() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    return [
        *project["build-system"]["requires"],
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["controller"],
    ]


def wheelhouse() -> Path:
    """Wheels of everything ``pip install -e .[controller]`` needs, built on this machine (cached)."""
    requirements = _wheel_requirements()
    key = _key(requirements, sys.version_info[:2], platform.machine(), 1)
    home = CACHE / "wheels" / key
    if (home / "complete").exists():
        return home / "wheels"
    with _locked(f"wheels-{key}"):
        if (home / "complete").exists():
            return home / "wheels"
        building = home / "wheels.building"
        shutil.rmtree(building, ignore_errors=True)
        shutil.rmtree(home / "wheels", ignore_errors=True)
        building.mkdir(parents=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(building), *requirements],
            check=True,
            timeout=BUILD_TIMEOUT_S,
        )
        building.rename(home / "wheels")
        (home / "complete").write_text("\n".join(requirements) + "\n")
    return home / "wheels"


def project_files(repo: Path = REPO) -> list[str]:
    """The project as a site manager copies it: what git tracks or would (nothing it ignores)."""
    listed = subprocess.run(
        ["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.decode()
    return sorted(name for name in listed.split("\0") if name and (repo / name).is_file())


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


class Chroot:
    """A throw-away Debian root on an overlay of :func:`bare_root`, with /proc, /sys and a small
    /dev mounted; every mount undone and every process left in it killed on the way out."""

    def __init__(self, lower: Path, work: Path, *, wheels: Path | None = None) -> None:
        self.lower = lower
        self.work = work
        self.root = work / "merged"
        self.wheels = wheels
        self._mounts: list[Path] = []

    # --- set-up and tear-down ----------------------------------------------------------------

    def __enter__(self) -> Chroot:
        try:
            self._assemble()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _mounted(self, target: Path, *args: str) -> None:
        _mount(*args, str(target))
        self._mounts.append(target)

    def _assemble(self) -> None:
        upper, scratch = self.work / "upper", self.work / "overlay-work"
        for directory in (upper, scratch, self.root):
            directory.mkdir(parents=True)
        self.work.chmod(0o755)
        options = f"lowerdir={self.lower},upperdir={upper},workdir={scratch}"
        self._mounted(self.root, "-t", "overlay", "overlay", "-o", options)
        self._mounted(self.root / "proc", "-t", "proc", "proc")
        self._mounted(self.root / "sys", "--bind", "/sys")
        _mount("-o", "remount,bind,ro", str(self.root / "sys"))
        dev = self.root / "dev"
        self._mounted(dev, "-t", "tmpfs", "-o", "mode=755,size=16m", "sitegate-test-dev")
        for name in DEV_NODES:
            (dev / name).touch()
            self._mounted(dev / name, "--bind", f"/dev/{name}")
        (dev / "pts").mkdir()
        self._mounted(dev / "pts", "-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=620", "devpts")
        (dev / "ptmx").symlink_to("pts/ptmx")
        (dev / "shm").mkdir(mode=0o1777)
        self._mounted(dev / "shm", "-t", "tmpfs", "-o", "mode=1777", "sitegate-test-shm")
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0")):
            (dev / name).symlink_to(target)
        (dev / "stdout").symlink_to("/proc/self/fd/1")
        (dev / "stderr").symlink_to("/proc/self/fd/2")
        for inside, cached in (
            ("var/cache/apt/archives", "apt/archives"),
            ("var/lib/apt/lists", "apt/lists"),
        ):
            (CACHE / cached / "partial").mkdir(parents=True, exist_ok=True)
            self._mounted(self.root / inside, "--bind", str(CACHE / cached))
        if self.wheels is not None:
            (self.root / WHEELS_AT.lstrip("/")).mkdir(parents=True)
            self._mounted(self.root / WHEELS_AT.lstrip("/"), "--bind", "-o", "ro", str(self.wheels))
        # A chroot has no init: package installs must not start daemons here (on a Pi systemd does).
        self.write("/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", mode=0o755)
        self.write("/etc/dpkg/dpkg.cfg.d/sitegate-tests", "force-unsafe-io\n")
        shutil.copyfile("/etc/resolv.conf", self.path("/etc/resolv.conf"), follow_symlinks=True)

    def processes(self) -> list[int]:
        """Every process whose root directory is this chroot."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if os.readlink(entry / "root") == str(self.root):
                        found.append(int(entry.name))
        return found

    def close(self) -> None:
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for target in reversed(self._mounts):
            done = subprocess.run(["umount", str(target)], capture_output=True, timeout=30)
            if done.returncode != 0:
                subprocess.run(["umount", "--lazy", str(target)], capture_output=True, timeout=30)
        self._mounts.clear()
        shutil.rmtree(self.work, ignore_errors=True)

    def unmount(self, inside: str) -> None:
        """Take away one mount (the site manager's USB stick, say)."""
        target = self.path(inside)
        subprocess.run(["umount", str(target)], check=True, capture_output=True, timeout=30)
        self._mounts.remove(target)

    # --- files -------------------------------------------------------------------------------

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    def write(self, inside: str, text: str, *, mode: int = 0o644) -> None:
        target = self.path(inside)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)

    def copy_project(self, inside: str, repo: Path = REPO) -> None:
        """The project copied in, as a site manager would (scp, a USB stick, git clone)."""
        destination = self.path(inside)
        for name in project_files(repo):
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / name, target)

    def ids(self, database: str) -> dict[str, list[str]]:
        """The root's own /etc/passwd or /etc/group, by name (not this machine's)."""
        lines = self.path(f"/etc/{database}").read_text().splitlines()
        return {fields[0]: fields for fields in (line.split(":") for line in lines if line)}

    def attach_device(self, host_device: str, name: str, *, group: str, mode: int) -> None:
        """``/dev/<name>`` in the root is ``host_device`` (what udev's rule does on a Pi: the stable
        name, its group and mode)."""
        node = self.path(f"/dev/{name}")
        node.touch()
        self._mounted(node, "--bind", host_device)
        os.chown(host_device, 0, int(self.ids("group")[group][2]))
        os.chmod(host_device, mode)

    def snapshot(self) -> dict[str, tuple[int, int, int, int, int]]:
        """(mode, uid, gid, size, mtime) of every path in the root but :data:`EXCLUDED`."""
        seen: dict[str, tuple[int, int, int, int, int]] = {}
        skip = {str(self.root / name) for name in EXCLUDED}
        for directory, subdirs, files in os.walk(self.root):
            subdirs[:] = [d for d in subdirs if os.path.join(directory, d) not in skip and d != "__pycache__"]
            for name in (*subdirs, *files):
                path = os.path.join(directory, name)
                info = os.lstat(path)
                seen[path[len(str(self.root)) :]] = (
                    info.st_mode,
                    info.st_uid,
                    info.st_gid,
                    info.st_size if not stat.S_ISDIR(info.st_mode) else 0,
                    info.st_mtime_ns,
                )
        return seen

    # --- running things ----------------------------------------------------------------------

    def environment(self, extra: Mapping[str, str] = {}) -> dict[str, str]:
        """What ``sudo`` gives a command: a clean environment."""
        return {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb", **extra}

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] = {},
        timeout: float = 600,
    ) -> subprocess.CompletedProcess[str]:
        """``argv`` run as root inside the root, with its output."""
        return subprocess.run(
            ["chroot", str(self.root), *argv],
            env=self.environment(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def unit(self, name: str) -> dict[str, list[str]]:
        """The [Service] settings of an installed unit, each key with all its values in order."""
        settings: dict[str, list[str]] = {}
        section = ""
        for raw in self.path(f"/etc/systemd/system/{name}").read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line
            elif section == "[Service]":
                key, _, value = line.partition("=")
                settings.setdefault(key.strip(), []).append(value.strip())
        return settings

    def start_unit(self, name: str, log: Path) -> subprocess.Popen[bytes]:
        """The unit's ExecStart, started the way systemd starts it: as its User= with its Group= and
        SupplementaryGroups=, in the environment systemd gives it plus its Environment= lines, after
        its ExecStartPre= commands succeeded. What systemd does that a chroot cannot (cgroups,
        sandboxing, notify and watchdog sockets) is left out."""
        service = self.unit(name)
        users, groups = self.ids("passwd"), self.ids("group")
        user = service["User"][-1]
        uid, home, shell = users[user][2], users[user][5], users[user][6]
        gid = groups[service["Group"][-1]][2] if "Group" in service else users[user][3]
        extra = [groups[g][2] for value in service.get("SupplementaryGroups", []) for g in value.split()]
        env = {"PATH": PATH, "HOME": home, "USER": user, "LOGNAME": user, "SHELL": shell}
        for directory in service.get("StateDirectory", []):
            env["STATE_DIRECTORY"] = f"/var/lib/{directory}"
            state = self.path(f"/var/lib/{directory}")
            if not state.exists():  # systemd makes it for the user; it does not chown what is inside
                state.mkdir(parents=True)
                os.chown(state, int(uid), int(gid))
        for value in service.get("Environment", []):
            for assignment in shlex.split(value):
                key, _, setting = assignment.partition("=")
                env[key] = setting
        as_user = ["chroot", f"--userspec={uid}:{gid}", f"--groups={','.join(extra) or gid}", str(self.root)]
        output = log.open("ab")
        for command in service.get("ExecStartPre", []):
            done = subprocess.run(
                [*as_user, *shlex.split(command.lstrip("-"))],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=60,
                check=False,
            )
            if done.returncode != 0 and not command.startswith("-"):
                raise RuntimeError(f"ExecStartPre={command} failed ({done.returncode}); see {log}")
        (start,) = service["ExecStart"]
        return subprocess.Popen(
            [*as_user, *shlex.split(start)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
