"""The console's compiled templates kept between processes (hub/console/template_cache.py): a
second process loads what the first compiled, an edited template is compiled afresh, and a cache
that cannot be kept never costs a page."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from hub.console.i18n import Locale
from hub.console.render import environment
from hub.console.template_cache import TemplateCache, shared_template_cache, template_cache


def process_environment(templates: Path, cache: Path) -> Environment:
    """What one hub process makes: its own environment and cache object over the shared directory
    (Jinja makes its default directory; a directory given must exist)."""
    return Environment(loader=FileSystemLoader(templates), bytecode_cache=template_cache(str(cache)))


def never_compiles(source: object, *args: object, **kwargs: object) -> None:
    raise AssertionError("compiled again: the cache was not used")


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    directory = tmp_path / "templates"
    directory.mkdir()
    (directory / "page.html").write_text("<p>{{ who }} 进场</p>", encoding="utf-8")
    return directory


def test_a_template_compiled_by_one_process_is_loaded_by_the_next(
    templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cache").mkdir()
    first = process_environment(templates, tmp_path / "cache")
    assert first.get_template("page.html").render(who="张三") == "<p>张三 进场</p>"
    assert len(list((tmp_path / "cache").iterdir())) == 1
    second = process_environment(templates, tmp_path / "cache")
    monkeypatch.setattr(second, "compile", never_compiles)
    assert second.get_template("page.html").render(who="李四") == "<p>李四 进场</p>"


def test_an_edited_template_is_compiled_afresh(templates: Path, tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    process_environment(templates, tmp_path / "cache").get_template("page.html")
    (templates / "page.html").write_text("<p>{{ who }} 出场</p>", encoding="utf-8")
    later = process_environment(templates, tmp_path / "cache")
    assert later.get_template("page.html").render(who="张三") == "<p>张三 出场</p>"


def test_a_cache_that_cannot_be_written_still_serves_the_page(
    templates: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gone = tmp_path / "no-such-directory"
    with caplog.at_level(logging.WARNING, logger="hub.console.template_cache"):
        page = process_environment(templates, gone).get_template("page.html").render(who="王五")
    assert page == "<p>王五 进场</p>"
    assert f"compiled template not kept in {gone}" in caplog.text


def test_an_unsafe_default_directory_means_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Another user's trick: the per-user directory a symlink to somewhere else. Jinja refuses it;
    the console compiles in each process instead."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, tmp_path / f"_jinja2-cache-{os.getuid()}")
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="hub.console.template_cache"):
        assert template_cache() is None
    assert "compiled templates not kept between processes" in caplog.text


def test_every_language_of_the_console_shares_the_process_cache() -> None:
    caches = {id(environment(locale).bytecode_cache) for locale in Locale}
    assert caches == {id(shared_template_cache())}
    assert isinstance(shared_template_cache(), TemplateCache)
