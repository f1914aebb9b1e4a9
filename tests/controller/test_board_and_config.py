from pathlib import Path

import pytest

from controller.board import BoardError, load_board
from controller.config import ConfigError, parse_config
from controller.journal import Retention

GOOD = """
device_id = "lane-a1"
project_id = "P1"
lane = "A1"
direction = "in"
data_dir = "/tmp/x"
site_key_file = "/tmp/x/site.key"
[readers.id_module]
port = "/dev/ttyUSB0"
"""


def test_builtin_board_loads_and_leaves_the_uart_free() -> None:
    board = load_board("rpi4")
    assert not set(board.pins().values()) & set(board.uart_pins)


def test_pin_used_twice_is_refused_by_name(tmp_path: Path) -> None:
    text = (
        (Path(__file__).parents[2] / "hardware/boards/rpi4.toml").read_text().replace("pin = 27", "pin = 17")
    )
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(BoardError, match=r"both use GPIO17"):
        load_board(str(path))


def test_uart_pin_is_refused(tmp_path: Path) -> None:
    text = (
        (Path(__file__).parents[2] / "hardware/boards/rpi4.toml").read_text().replace("pin = 24", "pin = 14")
    )
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(BoardError, match=r"outputs\.buzzer uses GPIO14"):
        load_board(str(path))


def test_unknown_board_name() -> None:
    with pytest.raises(BoardError, match="no built-in board profile named 'rpi9'"):
        load_board("rpi9")


def test_good_config_parses() -> None:
    config = parse_config(GOOD)
    assert config.readers.id_module is not None
    assert config.readers.id_module.port == "/dev/ttyUSB0"
    assert config.mqtt.port == 1883
    assert config.readers.pcsc is None


def test_acknowledged_events_are_kept_a_week_unless_configured_otherwise() -> None:
    assert parse_config(GOOD).journal.retention() == Retention(keep_s=7 * 86_400)
    kept = parse_config(GOOD + "[journal]\nkeep_acked_days = 2\nkeep_acked_max_events = 5000\n")
    assert kept.journal.retention() == Retention(keep_s=2 * 86_400, max_events=5000)
    with pytest.raises(
        ConfigError, match=r"journal\.keep_acked_days: Input should be less than or equal to 90"
    ):
        parse_config(GOOD + "[journal]\nkeep_acked_days = 365\n")


@pytest.mark.parametrize("rate", [9600, 19200, 38400, 57600, 115200])
def test_the_id_modules_standard_rates_are_accepted(rate: int) -> None:
    config = parse_config(GOOD.replace('"/dev/ttyUSB0"', f'"/dev/ttyUSB0"\nbaudrate = {rate}'))
    assert config.readers.id_module is not None
    assert config.readers.id_module.baudrate == rate


def test_both_readers_at_once() -> None:
    config = parse_config(GOOD + '[readers.pcsc]\nreader = "ACS ACR1252"\n')
    assert config.readers.pcsc is not None
    assert config.readers.pcsc.reader == "ACS ACR1252"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('[readers.id_module]\nport = "/dev/ttyUSB0"', ""), "readers: Field required"),
        (GOOD.replace('port = "/dev/ttyUSB0"', ""), "readers.id_module.port: Field required"),
        (
            GOOD.replace('[readers.id_module]\nport = "/dev/ttyUSB0"', "[readers]"),
            "configure at least one reader",
        ),
        (
            GOOD + "[policy]\nworking_hours = { worker = '25:00-06:00' }\n",
            "policy.working_hours.worker: String should match",
        ),
        (
            GOOD + "[policy]\nanti_passback = 'sometimes'\n",
            "policy.anti_passback: Input should be 'off', 'soft' or 'hard'",
        ),
        (GOOD + "relay_pulse_secs = 2\n", "relay_pulse_secs: Extra inputs are not permitted"),
        (GOOD.replace('"in"', '"sideways"'), "direction: Input should be 'in' or 'out'"),
        (GOOD + "[mqtt]\nport = 70000\n", "mqtt.port: Input should be less than or equal to 65535"),
        (
            GOOD.replace('"/dev/ttyUSB0"', '"/dev/ttyUSB0"\nbaudrate = -1'),
            r"readers\.id_module\.baudrate: -1 is not a rate the ID module supports "
            r"\(9600, 19200, 38400, 57600 or 115200\)",
        ),
        (
            GOOD.replace('"/dev/ttyUSB0"', '"/dev/ttyUSB0"\nbaudrate = 115201'),
            r"readers\.id_module\.baudrate: 115201 is not a rate",
        ),
        (GOOD.replace('"/dev/ttyUSB0"', '"/dev/ttyUSB0"\nbaudrate = "fast"'), "readers.id_module.baudrate: "),
        ("device_id = ", "not valid TOML"),
    ],
)
def test_config_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text, "controller.toml")
