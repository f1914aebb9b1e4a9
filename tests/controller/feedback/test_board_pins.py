"""Board profiles: the display's and the amplifier's pins clash with nothing else on the header."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.board import BoardError, Ssd1306Spec, St7789Spec, load_board

BOARDS = sorted(p.stem for p in (Path(__file__).parents[3] / "hardware/boards").glob("*.toml"))


@pytest.mark.parametrize("name", BOARDS)
def test_every_pin_of_a_profile_is_used_once(name: str) -> None:
    board = load_board(name)
    pins = board.pins()
    assert len(set(pins.values())) == len(pins), pins
    assert not set(pins.values()) & set(board.uart_pins)


@pytest.mark.parametrize("name", BOARDS)
def test_every_profile_has_a_screen_and_a_voice(name: str) -> None:
    board = load_board(name)
    assert isinstance(board.display, Ssd1306Spec | St7789Spec)
    assert board.audio is not None
    assert {"display.dc", "display.sda"} & set(board.pins())
    assert {"audio.bclk", "audio.lrclk", "audio.data"} <= set(board.pins())


def test_a_display_pin_on_a_relay_is_refused_by_name(tmp_path: Path) -> None:
    text = (Path(__file__).parents[3] / "hardware/boards/rpi4.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("dc = 26", "dc = 17"))
    with pytest.raises(BoardError, match=r"display\.dc and outputs\.relay_in both use GPIO17"):
        load_board(str(bad))


def test_an_amplifier_pin_on_the_uart_is_refused(tmp_path: Path) -> None:
    text = (Path(__file__).parents[3] / "hardware/boards/rpizero2w.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("data = 21", "data = 15"))
    with pytest.raises(BoardError, match=r"audio\.data uses GPIO15"):
        load_board(str(bad))


HEADER = {2: 3, 3: 5, 8: 24, 10: 19, 11: 23, 12: 32, 16: 36, 18: 12, 19: 35, 21: 40, 26: 37}
"""BCM GPIO -> header pin, for the pins the screen and the amplifier use (the same on all three)."""


def feedback_pin_table() -> dict[str, dict[str, str]]:
    text = (Path(__file__).parents[3] / "hardware/README.md").read_text()
    lines = text.split("### Screen and voice pins", 1)[1].split("\n\n")
    rows = [line for block in lines for line in block.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    return {
        cells["signal"]: cells
        for cells in (
            dict(zip(header, (c.strip() for c in row.strip("|").split("|")), strict=True)) for row in rows[2:]
        )
    }


@pytest.mark.parametrize("name", BOARDS)
def test_the_documented_screen_and_voice_pins_are_the_profiles(name: str) -> None:
    table = feedback_pin_table()
    profile = load_board(name)
    wired = {
        signal: pin for signal, pin in profile.pins().items() if signal.split(".")[0] in ("display", "audio")
    }
    documented = {
        signal for signal, row in table.items() if row["boards"] == "all" or name in row["boards"].split(", ")
    }
    assert documented == set(wired)
    for signal, pin in wired.items():
        assert int(table[signal]["BCM GPIO"]) == pin, signal
        assert int(table[signal]["header pin"]) == HEADER[pin], signal
