"""The catalogs: every message the console's templates and Python mark has a Chinese translation,
the compiled .mo files are the .po files' (make compiles them), and no translation loses a
placeholder its msgid has."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from hub.console.i18n import DOMAIN, LOCALE_DIR, Locale

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _marked() -> set[str]:
    """What pybabel extract finds now (babel.cfg's mapping), without writing messages.pot."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(locale: Locale, suffix: str = "po") -> dict[str, str]:
    path = LOCALE_DIR / locale.babel / "LC_MESSAGES" / f"{DOMAIN}.{suffix}"
    with open(path, "rb") as f:
        catalog = read_po(f) if suffix == "po" else read_mo(f)
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str)}


def test_every_marked_message_has_a_chinese_translation() -> None:
    marked = _marked()
    assert len(marked) > 150  # the extraction found the templates (a wrong babel.cfg finds nothing)
    zh = _catalog(Locale.ZH_CN)
    missing = sorted(m for m in marked if not zh.get(m))
    assert not missing, f"no zh_CN translation (make i18n-extract, then translate): {missing}"


def test_chinese_translations_keep_their_placeholders_and_are_chinese() -> None:
    for msgid, text in _catalog(Locale.ZH_CN).items():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(text)), msgid
        words = PLACEHOLDER.sub("", text)
        chinese = re.search(r"[\u4e00-\u9fff]", words) or not re.search(r"[A-Za-z]", words)
        assert chinese, f"{msgid!r} -> {text!r} is not Chinese"


def test_the_compiled_catalogs_match_their_sources() -> None:
    """A .po edited without `make` (the .mo is what the console reads) fails here."""
    for locale in Locale:
        source = {k: v for k, v in _catalog(locale).items() if v}
        assert _catalog(locale, "mo") == source, f"{locale}: run make to compile the catalogs"
