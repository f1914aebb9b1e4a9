"""Which language a console request gets: the account's, else the browser's (zh or en only), else zh-CN."""

from __future__ import annotations

import pytest

from hub.console.i18n import DEFAULT, Locale, choose_locale, parse_locale, translations


def test_chinese_is_the_default() -> None:
    assert DEFAULT is Locale.ZH_CN
    assert choose_locale(None, None) is Locale.ZH_CN
    assert choose_locale(None, "") is Locale.ZH_CN


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", Locale.EN),
        ("zh-CN,zh;q=0.9,en;q=0.8", Locale.ZH_CN),
        ("en;q=0.5,zh-TW;q=0.8", Locale.ZH_CN),
        ("fr-FR,fr;q=0.9", Locale.ZH_CN),  # neither: Chinese
        ("fr-FR,en;q=0.3", Locale.EN),  # the only supported one the browser accepts
        ("en;q=0,zh;q=0", Locale.ZH_CN),  # refused both: the default
        ("en;q=abc,zh;q=0.1", Locale.ZH_CN),  # a malformed weight is skipped
        ("*", Locale.ZH_CN),
        ("en, zh", Locale.EN),  # equal weights: the first
    ],
)
def test_the_browser_language(header: str, expected: Locale) -> None:
    assert choose_locale(None, header) is expected


def test_the_account_setting_wins_over_the_browser() -> None:
    assert choose_locale("en", "zh-CN") is Locale.EN
    assert choose_locale("zh-CN", "en-US") is Locale.ZH_CN
    assert choose_locale("xx", "en") is Locale.EN  # an unknown stored value: as if none


@pytest.mark.parametrize(
    ("value", "expected"),
    [("zh", Locale.ZH_CN), ("ZH_cn", Locale.ZH_CN), ("zh-Hans-CN", Locale.ZH_CN), ("en-GB", Locale.EN),
     ("de", None), ("", None), (None, None)],
)  # fmt: skip
def test_parse_locale(value: str | None, expected: Locale | None) -> None:
    assert parse_locale(value) is expected


def test_the_compiled_catalogs_are_installed() -> None:
    """make compiles the .po files (the venv target); without them the console would be English."""
    assert translations(Locale.ZH_CN).gettext("Log in") == "登录"
    assert translations(Locale.EN).gettext("Log in") == "Log in"
