"""The gates page's forms as values (hub.console.gate_form) and the setup command with its QR code
(hub.console.lane_setup): pure, no browser."""

from __future__ import annotations

import re
import shlex

import pytest

from hub.console.gate_form import in_language, mint_device_id, read, values_of
from hub.console.i18n import Locale
from hub.console.lane_setup import SCRIPT, qr_svg, setup_command
from hub.registry.models import GateDirection, GateKind
from provisioning.cli import build_parser
from wire.models import DEVICE_ID_PATTERN


def gettext(message: str) -> str:
    return f"«{message}»"


def test_a_lane_and_an_office_reader_are_read_from_the_form() -> None:
    lane = read(
        {"name": " 东门 ", "lane": "A1", "kind": "lane", "direction": "in"}, "lane-x-1", Locale.ZH_CN, gettext
    )
    assert lane.gate is not None and not lane.errors
    assert (lane.gate.name, lane.gate.direction, lane.gate.kind) == ("东门", GateDirection.IN, GateKind.LANE)
    office = read(
        {"name": "项目部", "lane": "O1", "kind": "office_reader", "direction": ""},
        "office-x-1",
        Locale.ZH_CN,
        gettext,
    )
    assert office.gate is not None and office.gate.direction is None


@pytest.mark.parametrize(
    ("locale", "words"), [(Locale.ZH_CN, "不能是 both"), (Locale.EN, "a lane drives one direction")]
)
def test_both_is_refused_beside_the_direction_in_the_readers_language(locale: Locale, words: str) -> None:
    form = {"name": "北门", "lane": "B1", "kind": "lane", "direction": "both"}
    outcome = read(form, "lane-x-1", locale, gettext)
    assert outcome.gate is None and set(outcome.errors) == {"direction"}
    assert words in outcome.errors["direction"] and " / " not in outcome.errors["direction"]
    assert values_of(form) == form  # what was typed, to show again


def test_missing_fields_are_the_consoles_words_beside_each() -> None:
    outcome = read({"kind": "lane"}, "lane-x-1", Locale.ZH_CN, gettext)
    assert outcome.errors["name"] == outcome.errors["lane"] == "«Required.»"
    assert "须选择方向" in outcome.errors["direction"]
    assert read({"name": "n", "lane": "A", "kind": "gate"}, "lane-x-1", Locale.ZH_CN, gettext).errors == {
        "kind": "«Pick one of the choices.»"
    }


def test_a_minted_device_id_is_readable_unique_and_a_device_id() -> None:
    minted = mint_device_id("P_0042 东区", GateKind.OFFICE_READER, lambda n: "ab" * n)
    assert minted == "office-p-0042-ababab"
    assert re.fullmatch(DEVICE_ID_PATTERN, mint_device_id("x" * 64, GateKind.LANE))
    assert re.fullmatch(DEVICE_ID_PATTERN, mint_device_id("东区", GateKind.LANE))  # nothing left: "site"
    assert mint_device_id("P-1", GateKind.LANE) != mint_device_id("P-1", GateKind.LANE)


def test_in_language_keeps_an_unsplit_message_whole() -> None:
    assert in_language("只有中文", Locale.EN) == "只有中文"
    assert in_language("中文 / English", Locale.EN) == "English"


def test_the_setup_command_is_what_setup_lane_hands_to_provision() -> None:
    token = "lane-p-0042-ababab." + "A" * 43
    words = shlex.split(setup_command("https://hub.example.gov.cn", token))
    assert words[:2] == ["sudo", SCRIPT]
    args = build_parser().parse_args(words[2:])
    assert (args.hub, args.token) == ("https://hub.example.gov.cn", token)


def test_the_qr_code_is_inline_svg_with_an_escaped_title() -> None:
    svg = str(qr_svg("sudo ./sitegate/provisioning/setup-lane.sh", title="二维码 <b>"))
    assert svg.startswith("<svg") and 'class="qr"' in svg and "<path" in svg
    assert "<title>二维码 &lt;b&gt;</title>" in svg
    assert "<script" not in svg and "<image" not in svg  # drawn, nothing fetched or run
