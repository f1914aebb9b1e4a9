"""Configuration: defaults, then a TOML file, then flags; unknown keys stop the hub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.cli import main
from hub.config import DEFAULT_SHARE_GROUP, HubConfig, load_config
from hub.errors import ConfigError
from hub.events.time_bounds import DEFAULT_BOUNDS


def test_flags_override_the_file_which_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text('mqtt_host = "broker.example"\nmqtt_port = 8883\nbatch_max = 50\n')
    config = load_config(path, {"mqtt_port": 1884, "http_port": None})
    assert (config.mqtt_host, config.mqtt_port, config.batch_max) == ("broker.example", 1884, 50)
    assert config.http_port == 8080
    assert config.share_group == DEFAULT_SHARE_GROUP


def test_each_instance_gets_its_own_client_id() -> None:
    assert HubConfig().mqtt_client_id != HubConfig().mqtt_client_id


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("batch_maks = 5\n", "batch_maks"),
        ("mqtt_port = 0\n", "mqtt_port"),
        ('share_group = "a/b"\n', "share_group"),
        ("mqtt_port = [\n", "not valid TOML"),
    ],
)
def test_bad_files_are_refused_naming_the_problem(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=says):
        load_config(path)


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert main(["--mqtt-port", "not-a-number"]) == 2
    assert main(["--config", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_the_time_bounds_are_one_tolerance_and_a_site_local_epoch(tmp_path: Path) -> None:
    assert HubConfig().time_bounds() == DEFAULT_BOUNDS
    path = tmp_path / "hub.toml"
    path.write_text("clock_tolerance_s = 120\nclock_epoch = 2025-01-01\n")
    bounds = load_config(path).time_bounds()
    assert (bounds.future_skew, bounds.enrolment_slack) == (timedelta(minutes=2), timedelta(minutes=2))
    assert bounds.epoch == datetime(2024, 12, 31, 16, tzinfo=UTC)  # midnight in Beijing
    path.write_text("clock_tolerance_s = -1\n")
    with pytest.raises(ConfigError, match="clock_tolerance_s"):
        load_config(path)
