"""Every code the console shows has words in both languages; Chinese ones in Chinese."""

from __future__ import annotations

import re

import pytest

from hub.console import labels
from hub.console.i18n import Locale
from hub.registry.seed import DISTRICTS
from hub.workflows.alerts import KINDS
from wire.labels import LABELS as WORKER_LABELS
from wire.models import Reason

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("kind", sorted(labels.ENUMS))
def test_every_member_of_every_enum_has_both_labels(kind: str) -> None:
    table = labels.TABLES[kind]
    for member in labels.ENUMS[kind]:
        text = table.get(member.value)
        assert text is not None, f"{kind}: no label for {member.value!r}"
        assert HAN.search(text.zh), f"{kind}.{member.value}: {text.zh!r} is not Chinese"
        assert text.en and not HAN.search(text.en.replace("报备", "")), f"{kind}.{member.value}: {text.en!r}"


def test_every_table_has_its_enum() -> None:
    assert set(labels.TABLES) == set(labels.ENUMS)


RETIRED = {("gate_direction", "both")}
"""Codes no longer written that older databases may hold, so they keep their words."""


@pytest.mark.parametrize("kind", sorted(labels.ENUMS))
def test_every_code_in_a_table_is_a_member_of_its_enum(kind: str) -> None:
    """labels.toml is keyed by codes as text: a renamed or misspelt code would be shown bare."""
    members = {member.value for member in labels.ENUMS[kind]}
    stale = {code for code in labels.TABLES[kind] if code not in members and (kind, code) not in RETIRED}
    assert not stale, f"{kind}: {sorted(stale)} are no codes of {labels.ENUMS[kind].__name__}"


def test_alert_kinds_are_the_hubs() -> None:
    assert {k.value for k in labels.AlertKind} == set(KINDS)


def test_districts_are_named_as_the_registry_seeds_them() -> None:
    for code, name in DISTRICTS.items():
        assert labels.label(Locale.ZH_CN, "district", code) == name
    assert labels.label(Locale.ZH_CN, "district", "330109") == "萧山区"
    assert labels.label(Locale.EN, "district", "330109") == "Xiaoshan"


def test_reasons_are_what_the_worker_saw_at_the_gate() -> None:
    for reason in Reason:
        assert labels.label(Locale.ZH_CN, "reason", reason) == WORKER_LABELS[reason].verdict.zh
    assert labels.label(Locale.ZH_CN, "reason", "not_registered") == "未登记"


def test_the_four_managers_are_the_notices() -> None:
    four = {labels.label(Locale.ZH_CN, "position", p) for p in labels.FOUR_MANAGERS}
    assert four == {"项目负责人", "技术负责人", "质量负责人", "安全负责人"}


def test_an_unknown_code_shows_as_itself_and_none_as_nothing() -> None:
    assert labels.label(Locale.ZH_CN, "role", "someday_role") == "someday_role"
    assert labels.label(Locale.ZH_CN, "position", None) == ""
    assert labels.label(Locale.ZH_CN, "role", "gc_project") == "总包项目部"
    assert labels.label(Locale.EN, "direction", "in") == "In"
