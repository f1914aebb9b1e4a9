"""``provisioning/setup-lane.sh`` run for real against a fake root: a Debian 12 file system with
just what the script reads (os-release, passwd/group, dpkg's status, the boot partition).
Nothing under this machine's own /etc is touched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.install import with_block, without_serial_console

SCRIPT = Path(__file__).parents[2] / "provisioning" / "setup-lane.sh"
SITEGATE = Path(sys.executable).with_name("sitegate")
PACKAGES = (
    "python3 python3-venv python3-dev build-essential swig pcscd libpcsclite-dev libccid pcsc-tools chrony"
)


def fake_root(path: Path, os_release: str = 'ID=debian\nVERSION_ID="12"\n') -> Path:
    files = {
        "etc/os-release": os_release,
        "etc/passwd": "root:x:0:0:root:/root:/bin/bash\n",
        "etc/group": "root:x:0:\n",
        "etc/shadow": "root:*:19000:0:99999:7:::\n",
        "etc/gshadow": "root:*::\n",
        "var/lib/dpkg/status": "".join(
            f"Package: {p}\nStatus: install ok installed\n\n" for p in PACKAGES.split()
        ),
        "boot/firmware/config.txt": "arm_64bit=1\n",
        "boot/firmware/cmdline.txt": "console=serial0,115200 console=tty1 root=PARTUUID=1-02 rootwait\n",
    }
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    return path


def setup_lane(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), "--root", str(root), "--sitegate", str(SITEGATE), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.skipif(os.geteuid() != 0, reason="useradd --root needs root")
def test_an_image_root_gets_the_user_and_every_os_piece_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    root = fake_root(tmp_path / "root")
    first = setup_lane(root, "--image")
    assert first.returncode == 0, first.stdout + first.stderr
    passwd = (root / "etc/passwd").read_text()
    assert "sitegate:x:" in passwd and ":/var/lib/sitegate:/usr/sbin/nologin" in passwd
    group = (root / "etc/group").read_text()
    assert any(line.startswith("gpio:") and "sitegate" in line for line in group.splitlines())
    assert any(line.startswith("dialout:") and "sitegate" in line for line in group.splitlines())
    for path in (
        "etc/systemd/system/sitegate-controller.service",
        "etc/udev/rules.d/99-sitegate.rules",
        "etc/systemd/journald.conf.d/sitegate.conf",
        "etc/systemd/system.conf.d/sitegate-watchdog.conf",
    ):
        assert (root / path).is_file(), path
    assert "# BEGIN sitegate" in (root / "boot/firmware/config.txt").read_text()
    assert "console=serial0" not in (root / "boot/firmware/cmdline.txt").read_text()
    assert not (root / "etc/sitegate").exists()  # no key, no enrolment in an image

    before = snapshot(root)
    second = setup_lane(root, "--image")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "user sitegate: present" in second.stdout
    assert "wrote " not in second.stdout
    assert snapshot(root) == before


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(tmp_path: Path) -> None:
    root = fake_root(tmp_path / "root")
    before = snapshot(root)
    result = setup_lane(root, "--image", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "would run: useradd --root" in result.stdout
    assert "would write /etc/systemd/system/sitegate-controller.service" in result.stdout
    assert "would write /boot/firmware/cmdline.txt" in result.stdout
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("os_release", "why"),
    [
        ('ID=fedora\nVERSION_ID="40"\n', "this is fedora"),
        ('ID=debian\nVERSION_ID="11"\n', "Debian 11 is too old"),
    ],
)
def test_it_stops_on_an_os_it_does_not_support(tmp_path: Path, os_release: str, why: str) -> None:
    root = fake_root(tmp_path / "root", os_release)
    result = setup_lane(root, "--image")
    assert result.returncode == 1
    assert why in result.stdout
    assert "sitegate" not in (root / "etc/passwd").read_text()


def test_the_boot_block_is_replaced_not_doubled() -> None:
    once = with_block("arm_64bit=1\n", "# BEGIN sitegate\nenable_uart=1\n# END sitegate\n")
    assert once == "arm_64bit=1\n\n# BEGIN sitegate\nenable_uart=1\n# END sitegate\n"
    twice = with_block(once, "# BEGIN sitegate\nenable_uart=1\ndtparam=watchdog=on\n# END sitegate\n")
    assert twice.count("# BEGIN sitegate") == 1 and "dtparam=watchdog=on" in twice


def test_only_the_serial_console_leaves_the_kernel_command_line() -> None:
    line = "console=serial0,115200 console=tty1 root=PARTUUID=1-02 kgdboc=ttyAMA0,115200 rootwait quiet"
    assert without_serial_console(line) == "console=tty1 root=PARTUUID=1-02 rootwait quiet\n"


TOKEN = "lane-hz0042-a1.Zm9yLXRoZS10ZXN0cy1vbmx5LW5vdC1hLXJlYWwtc2VjcmV0"
SECRET = TOKEN.split(".", 1)[1]
ARGS = ("--hub", "https://hub.example", "--token", TOKEN, "--mock-pins")


@pytest.mark.skipif(os.geteuid() != 0, reason="runs the script as another user with runuser")
def test_without_root_it_says_run_it_with_sudo_before_anything_else() -> None:
    """Issue 22, item 5: not pip's or apt's own refusal, halfway through."""
    result = subprocess.run(
        [
            "runuser",
            "-u",
            "nobody",
            "--",
            "bash",
            str(SCRIPT),
            "--hub",
            "https://hub.example",
            "--token",
            TOKEN,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "run it with sudo" in out
    for noise in ("apt-get", "pip", "groupadd", "useradd", "Permission denied", "E: "):
        assert noise not in out, out
    assert SECRET not in out


def test_on_the_real_root_groups_and_the_user_are_made_without_an_empty_root_option() -> None:
    """Issue 22, item 1: ``--root ""`` made groupadd stop on every real Pi."""
    if "sitegate:" in Path("/etc/passwd").read_text():
        pytest.skip("this machine has a sitegate user already: nothing would be made")
    result = subprocess.run(
        ["bash", str(SCRIPT), "--dry-run", "--hub", "https://hub.example", "--token", TOKEN],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    made = [line for line in result.stdout.splitlines() if "groupadd" in line or "useradd" in line]
    assert any("useradd" in line for line in made), result.stdout
    assert all("--root" not in line for line in made), made
    assert SECRET not in result.stdout + result.stderr


def test_the_token_is_never_printed_nor_put_on_a_command_line(tmp_path: Path) -> None:
    """Issue 22, item 6: the script handed the token over in ``sitegate provision``'s argv and printed
    that command line. It goes over in the environment now, which only root and the process see."""
    root = fake_root(tmp_path / "root")
    fake = tmp_path / "sitegate"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/argv\nenv > {tmp_path}/env\n')
    fake.chmod(0o755)
    result = subprocess.run(
        [*("bash", str(SCRIPT), "--root", str(root), "--sitegate", str(fake)), *ARGS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr
    argv = (tmp_path / "argv").read_text().splitlines()
    assert SECRET not in "\n".join(argv)
    assert argv[:3] == ["provision", "--root", str(root)] and "--mock-pins" in argv
    assert f"SITEGATE_TOKEN={TOKEN}" in (tmp_path / "env").read_text().splitlines()
