"""Issue 14, "forms that help": no console form asks anyone to type an internal id (``ent-…``,
``per-…``, a project's id). Every input of every template is walked: a free-text input (or a
textarea) whose name ends in ``_id`` fails, so a typed id cannot come back unnoticed. Picking
from a ``<select>``, a radio or a hidden field is not typing."""

from __future__ import annotations

import re
from pathlib import Path

import hub.console

TEMPLATES = Path(hub.console.__file__).parent / "templates"
FIELD = re.compile(r"<(input|textarea)\b([^>]*)>", re.IGNORECASE | re.DOTALL)
NOT_TYPED = {"hidden", "radio", "checkbox", "submit", "button", "date", "month", "file"}


def _attribute(attributes: str, name: str) -> str | None:
    found = re.search(rf"\b{name}\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", attributes)
    return found.group(1).strip("\"'") if found else None


def typed_ids(html: str) -> list[str]:
    """The names of the free-text fields in ``html`` that are named like an internal id."""
    found = []
    for tag, attributes in FIELD.findall(html):
        name = _attribute(attributes, "name") or ""
        kind = "textarea" if tag.lower() == "textarea" else (_attribute(attributes, "type") or "text").lower()
        if kind not in NOT_TYPED and re.search(r"_id\W*$", name):
            found.append(name)
    return found


def test_the_walk_catches_a_typed_id_and_passes_a_picked_one() -> None:
    assert typed_ids('<label>企业 <input name="enterprise_id"></label>') == ["enterprise_id"]
    assert typed_ids('<input type="search" name="project_id" value="">') == ["project_id"]
    assert typed_ids('<textarea name="person_id"></textarea>') == ["person_id"]
    assert typed_ids('<input type="hidden" name="order_id" value="3">') == []
    assert typed_ids('<select name="project_id"><option value="proj-a">西湖</option></select>') == []


def test_no_console_form_asks_for_a_typed_internal_id() -> None:
    templates = sorted(TEMPLATES.glob("*.html"))
    assert len(templates) > 20
    inputs = sum(len(FIELD.findall(t.read_text(encoding="utf-8"))) for t in templates)
    assert inputs > 40  # the walk sees the forms
    offending = {t.name: typed_ids(t.read_text(encoding="utf-8")) for t in templates}
    assert {name: ids for name, ids in offending.items() if ids} == {}
