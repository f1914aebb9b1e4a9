"""The [display] and [voice] sections: defaults a site can live with, errors that name the key."""

from __future__ import annotations

from datetime import time

import pytest

from controller.config import ConfigError, parse_config

BASE = (
    'device_id = "lane-a1"\nproject_id = "P1"\nlane = "A1"\ndirection = "in"\n'
    'data_dir = "/var/lib/sitegate"\nsite_key_file = "/etc/sitegate/site.key"\n'
    '[readers.id_module]\nport = "/dev/sitegate-idmodule"\n'
)


def test_defaults_screen_and_voice_on_quiet_at_night() -> None:
    config = parse_config(BASE)
    assert config.display.enabled and config.display.device == "auto"
    assert str(config.display.font).endswith("wqy-zenhei.ttc")
    assert config.voice.enabled and config.voice.volume == 80 and config.voice.quiet_volume == 30
    window = config.voice.quiet_window()
    assert window is not None and window.contains(time(23, 0)) and not window.contains(time(7, 0))


def test_a_site_sets_its_own_levels_and_hours() -> None:
    config = parse_config(BASE + '[voice]\nvolume = 100\nquiet_hours = "21:30-07:00"\nquiet_volume = 0\n')
    assert config.voice.volume == 100 and config.voice.quiet_volume == 0
    assert config.voice.quiet_window() is not None
    assert parse_config(BASE + '[voice]\nquiet_hours = ""\n').voice.quiet_window() is None  # TOML has no null


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("[voice]\nvolume = 120\n", "voice.volume"),
        ('[voice]\nquiet_hours = "22:00-22:00"\n', "voice.quiet_hours"),
        ('[voice]\nquiet_hours = "10pm-6am"\n', "voice.quiet_hours"),
        ('[voice]\nalsa_device = "default; rm -rf /"\n', "voice.alsa_device"),
        ('[display]\ndevice = "hdmi"\n', "display.device"),
        ("[display]\ndecision_s = 0\n", "display.decision_s"),
        ("[display]\nbrightness = 3\n", "display.brightness"),
    ],
)
def test_mistakes_name_the_key(section: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_config(BASE + section)
