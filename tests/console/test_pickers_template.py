"""templates/pickers.html: a picker drawn as a select of every candidate when they are few, else
as a search field keeping what was typed, with the problem beside it and the choices of an
ambiguous name as radios (each a pick, never a typed id)."""

from __future__ import annotations

from hub.console.i18n import Locale, translations
from hub.console.oversight_forms import order_data
from hub.console.pickers import SHORT, Candidate
from hub.console.render import environment

MACRO = '{% from "pickers.html" import picker with context %}{{ picker(form, "enterprise", "企业", "名称", "—") }}'
PROJECTS = [Candidate("proj-a", "西湖文化广场", ("3301002025010000",), "3301002025010000")]
ORDER = {"subject": "考勤", "requirements": "补录", "deadline": "2099-01-01"}


def _drawn(form: dict[str, str], enterprises: list[Candidate]) -> str:
    _, picking = order_data({**ORDER, **form}, PROJECTS, enterprises, translations(Locale.ZH_CN).gettext)
    return environment(Locale.ZH_CN).from_string(MACRO).render(form=picking)


def test_many_candidates_are_a_search_field_with_the_choices_of_an_ambiguous_name_beside_it() -> None:
    many = [
        Candidate(f"ent-{n}", f"第{n}建筑公司", (f"9133{n:014d}",), f"9133{n:014d}") for n in range(SHORT + 1)
    ]
    html = _drawn({"enterprise": "第1"}, many)
    assert '<input type="search" name="enterprise" value="第1"' in html
    assert 'aria-invalid="true"' in html
    assert (
        '<span class="field-error" id="error-enterprise" role="alert">有多个匹配项，请在下面选择一个。</span>'
        in html
    )
    assert (
        '<input type="radio" name="enterprise_pick" value="ent-10"> 第10建筑公司（913300000000000010）'
        in html
    )
    assert "<select" not in html


def test_a_name_matching_nothing_is_kept_escaped_with_the_problem_beside_it() -> None:
    many = [Candidate(f"ent-{n}", f"第{n}建筑公司") for n in range(SHORT + 1)]
    html = _drawn({"enterprise": "<b>滨江</b>"}, many)
    assert 'value="&lt;b&gt;滨江&lt;/b&gt;"' in html
    assert "未找到匹配的企业（仅限本账号可处理的企业）。" in html
    assert 'type="radio"' not in html


def test_few_candidates_are_a_select_with_the_picked_one_selected() -> None:
    few = [Candidate("ent-gc1", "西湖建工集团", ("91330106MA2B3C4D5E",), "91330106MA2B3C4D5E")]
    html = _drawn({"enterprise_pick": "ent-gc1", "project_pick": "proj-a"}, few)
    assert '<select name="enterprise_pick"' in html
    assert '<option value="ent-gc1" selected>西湖建工集团（91330106MA2B3C4D5E）</option>' in html
    assert '<input type="search"' not in html
