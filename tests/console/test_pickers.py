"""hub.console.pickers: what a regulator typed (or picked) resolved among what the account may
act on: an exact number, a unique name, several names (choices), nothing (not found)."""

from __future__ import annotations

from hub.console.pickers import (
    EMPTY,
    MOST_CHOICES,
    NOT_FOUND,
    SHORT,
    Candidate,
    Choose,
    Picked,
    resolve,
    resolve_field,
    widget,
)

GC = Candidate("ent-gc1", "西湖建工集团", ("91330106MA2B3C4D5E",), "91330106MA2B3C4D5E")
SUB = Candidate("ent-sub1", "拱墅劳务有限公司", ("91330105MA7K8L9M0N",), "91330105MA7K8L9M0N")
TWIN_A = Candidate("ent-t1", "运河建设公司", ("91330110AAAAAAAA1X",), "91330110AAAAAAAA1X")
TWIN_B = Candidate("ent-t2", "运河建设公司", ("91330110BBBBBBBB2Y",), "91330110BBBBBBBB2Y")
OUT_OF_SCOPE = Candidate("ent-far", "远方建筑公司", ("91330999ZZZZZZZZ9Z",), "91330999ZZZZZZZZ9Z")
SEEN = [GC, SUB, TWIN_A, TWIN_B]


def test_an_exact_credit_code_picks_its_enterprise_in_any_case_and_spacing() -> None:
    assert resolve("91330106MA2B3C4D5E", "", SEEN) == Picked(GC)
    assert resolve(" 91330106 ma2b3c4d5e ", "", SEEN) == Picked(GC)


def test_a_unique_name_picks_it() -> None:
    assert resolve("拱墅劳务有限公司", "", SEEN) == Picked(SUB)


def test_a_choice_label_picks_it_again() -> None:
    """A form sent back with errors shows the picked one's label: sent again, it is the same one."""
    assert resolve(TWIN_B.label, "", SEEN) == Picked(TWIN_B)


def test_a_name_two_enterprises_share_offers_both_as_choices() -> None:
    assert resolve("运河建设公司", "", SEEN) == Choose((TWIN_A, TWIN_B))


def test_part_of_a_name_is_offered_never_taken_even_when_one_matches() -> None:
    assert resolve("拱墅", "", SEEN) == Choose((SUB,))
    assert resolve("建设", "", SEEN) == Choose((TWIN_A, TWIN_B))


def test_part_of_a_code_is_offered_too() -> None:
    assert resolve("MA7K8", "", SEEN) == Choose((SUB,))


def test_nothing_matching_is_not_found() -> None:
    assert resolve("滨江建工", "", SEEN) is NOT_FOUND


def test_an_enterprise_outside_the_accounts_scope_is_not_found_by_name_number_or_pick() -> None:
    assert resolve(OUT_OF_SCOPE.name, "", SEEN) is NOT_FOUND
    assert resolve(OUT_OF_SCOPE.numbers[0], "", SEEN) is NOT_FOUND
    assert resolve("", OUT_OF_SCOPE.key, SEEN) is NOT_FOUND


def test_a_pick_wins_over_what_was_typed() -> None:
    assert resolve("运河建设公司", "ent-t2", SEEN) == Picked(TWIN_B)


def test_nothing_typed_or_picked_is_empty() -> None:
    assert resolve("  ", "", SEEN) is EMPTY


def test_an_internal_id_typed_is_not_a_name() -> None:
    assert resolve("ent-gc1", "", SEEN) is NOT_FOUND


def test_a_permit_number_picks_its_project() -> None:
    projects = [
        Candidate("proj-a", "西湖文化广场", ("330100202501 0001",), "3301002025010001"),
        Candidate("proj-c", "西湖文化广场二期", ("3301002025010003",), "3301002025010003"),
    ]
    assert resolve("3301002025010003", "", projects) == Picked(projects[1])
    assert resolve("西湖文化广场", "", projects) == Picked(projects[0])


def test_the_field_and_its_pick_come_from_the_form() -> None:
    assert resolve_field({"enterprise": "西湖建工集团"}, "enterprise", SEEN) == Picked(GC)
    assert resolve_field({"enterprise_pick": "ent-sub1"}, "enterprise", SEEN) == Picked(SUB)


def test_choices_are_capped() -> None:
    many = [Candidate(f"ent-{n}", f"第{n}建筑公司", (f"9133{n:014d}",)) for n in range(MOST_CHOICES + 5)]
    found = resolve("建筑公司", "", many)
    assert isinstance(found, Choose) and len(found.choices) == MOST_CHOICES


def test_a_short_list_is_a_select_a_long_one_a_search_field_with_the_choices_left() -> None:
    assert widget("enterprise", SEEN).is_select
    many = [Candidate(f"ent-{n}", f"第{n}建筑公司") for n in range(SHORT + 1)]
    long = widget("enterprise", many, resolve("第1", "", many))
    assert not long.is_select
    assert [c.key for c in long.choices] == ["ent-1", *(f"ent-{n}" for n in range(10, 20))]
