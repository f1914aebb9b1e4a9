"""``sitegate controller`` as a site manager runs it: exit codes and messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitegate.cli", "controller", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def write_config(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "site.key").write_text("ab" * 32)
    path = tmp_path / "controller.toml"
    path.write_text(
        f'device_id = "lane-cli-1"\nproject_id = "P1"\nlane = "A1"\ndirection = "in"\n'
        f'data_dir = "{tmp_path}"\nsite_key_file = "{tmp_path / "site.key"}"\npin_factory = "mock"\n{extra}'
        '[readers.id_module]\nport = "/dev/null"\n'
    )
    return path


def test_check_config_passes_a_good_file(tmp_path: Path) -> None:
    result = run("check-config", "--config", str(write_config(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "OK (lane A1, device lane-cli-1)" in result.stdout


def test_a_bad_file_names_the_key_and_exits_2(tmp_path: Path) -> None:
    result = run("check-config", "--config", str(write_config(tmp_path, "relay_pulse_secs = 2\n")))
    assert result.returncode == 2
    assert "relay_pulse_secs: Extra inputs are not permitted" in result.stderr


def test_a_baud_rate_the_module_cannot_use_fails_the_check_naming_the_key(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    path.write_text(path.read_text() + "baudrate = -1\n")  # inside [readers.id_module]
    result = run("check-config", "--config", str(path))
    assert result.returncode == 2
    assert "readers.id_module.baudrate: -1 is not a rate the ID module supports" in result.stderr


def test_a_missing_site_key_is_a_configuration_error(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    (tmp_path / "site.key").unlink()
    result = run("check-config", "--config", str(path))
    assert result.returncode == 2 and "site_key_file" in result.stderr


def test_fail_secure_drives_the_relays_off(tmp_path: Path) -> None:
    result = run("fail-secure", "--config", str(write_config(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "driven to their locked state" in result.stdout
