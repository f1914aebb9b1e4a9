"""The board profiles load, keep the ID module's UART free, and agree with the documents: the pin
table in hardware/README.md (BCM, header pin, polarity) and the bill of materials."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from controller.board import BoardProfile, load_board

HARDWARE = Path(__file__).parents[2] / "hardware"
BOARDS = sorted(p.stem for p in (HARDWARE / "boards").glob("*.toml"))
# The 40-pin header: BCM GPIO -> physical pin (the same on the Pi 4, Pi 5 and Zero 2 W).
HEADER = {
    2: 3,
    3: 5,
    4: 7,
    5: 29,
    6: 31,
    7: 26,
    8: 24,
    9: 21,
    10: 19,
    11: 23,
    12: 32,
    13: 33,
    14: 8,
    15: 10,
    16: 36,
    17: 11,
    18: 12,
    19: 35,
    20: 38,
    21: 40,
    22: 15,
    23: 16,
    24: 18,
    25: 22,
    26: 37,
    27: 13,
}


def pin_table() -> dict[str, dict[str, str]]:
    """The README's pin map, one row per signal."""
    section = (HARDWARE / "README.md").read_text().split("## Pin map", 1)[1].split("\n#", 1)[0]
    lines = section.splitlines()
    rows = [line for line in lines if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    table = {}
    for row in rows[2:]:
        cells = dict(zip(header, (cell.strip() for cell in row.strip("|").split("|")), strict=True))
        table[cells["signal"]] = cells
    return table


def test_there_is_a_profile_for_each_board_of_the_issue() -> None:
    assert set(BOARDS) >= {"rpi4", "rpi5", "rpizero2w"}


@pytest.mark.parametrize("board", BOARDS)
def test_each_profile_loads_and_leaves_the_uart_to_the_id_module(board: str) -> None:
    profile = load_board(board)
    assert profile.uart_pins == (14, 15)
    assert not set(profile.pins().values()) & {14, 15}


@pytest.mark.parametrize("board", BOARDS)
def test_the_documented_pin_map_is_the_profiles(board: str) -> None:
    profile: BoardProfile = load_board(board)
    table = pin_table()
    # The screen's and the amplifier's pins have their own table (tests/controller/feedback).
    wired = {name: pin for name, pin in profile.pins().items() if name.split(".")[0] in ("outputs", "inputs")}
    for name, pin in wired.items():
        group, signal = name.split(".")
        row = table[signal]
        spec = getattr(getattr(profile, group), signal)
        assert row["kind"] == group[:-1], signal
        assert int(row["BCM GPIO"]) == pin, signal
        assert int(row["header pin"]) == HEADER[pin], f"{signal}: GPIO{pin} is header pin {HEADER[pin]}"
        assert row["active"] == ("high" if spec.active_high else "low"), signal
        if group == "inputs":
            assert row["pull-up"] == ("yes" if spec.pull_up else "no"), signal
    documented = {signal for signal, row in table.items() if row["kind"] in ("output", "input")}
    assert documented == {name.split(".")[1] for name in wired}
    uart = {int(row["BCM GPIO"]): int(row["header pin"]) for row in table.values() if row["kind"] == "UART"}
    assert uart == {14: HEADER[14], 15: HEADER[15]} and set(uart) == set(profile.uart_pins)


def test_the_bill_of_materials_says_why_for_every_part() -> None:
    with (HARDWARE / "bom.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and set(rows[0]) == {"item", "part", "quantity", "per", "why"}
    for row in rows:
        assert int(row["quantity"]) >= 1, row["item"]
        assert len(row["why"]) > 20, f"{row['item']}: say why this part"
    items = {row["item"] for row in rows}
    assert {"controller", "relay board", "ID module", "level shifter", "power", "storage"} <= items
