"""Every systemd unit under firmware/ passes ``systemd-analyze verify``.

The units name /opt/sitegate/venv/bin/sitegate, which exists only on a provisioned Pi; the test
verifies a copy whose command paths point at this checkout's virtualenv, so what is checked is
the unit's syntax and semantics, not this machine's layout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = sorted((Path(__file__).parents[1] / "firmware" / "systemd").glob("*.service"))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_unit_verifies(unit: Path, tmp_path: Path) -> None:
    sitegate = Path(sys.executable).with_name("sitegate")
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace("/opt/sitegate/venv/bin/sitegate", str(sitegate)))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=60
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if unit.name in line or "error" in line.lower()
    ]
    assert result.returncode == 0 and not problems, "\n".join(problems) or result.stderr


def test_there_is_a_controller_unit() -> None:
    assert "sitegate-controller.service" in {u.name for u in UNITS}
