"""Rendezvous hashing of projects over hub instances: every instance agrees, the shares are even,
and an instance joining or leaving moves only its own share."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.instances.ownership import Ownership, owner, weight

instance_ids = st.lists(
    st.from_regex(r"[a-z0-9.-]{1,24}", fullmatch=True), min_size=1, max_size=6, unique=True
)
project_ids = st.lists(
    st.from_regex(r"P-[A-Z0-9]{1,12}", fullmatch=True), min_size=1, max_size=60, unique=True
)


@given(instance_ids, project_ids)
def test_every_instance_agrees_and_each_project_has_exactly_one_owner(
    instances: list[str], projects: list[str]
) -> None:
    live = frozenset(instances)
    views = [Ownership(me, live) for me in instances]
    for project in projects:
        owners = [view.me for view in views if view.owns(project)]
        assert owners == [owner(project, live)]
        assert owner(project, reversed(instances)) == owner(project, instances)  # order is no input


def test_the_weights_are_stable_across_processes() -> None:
    """blake2b, not Python's salted hash: a value computed once, here, holds in every process."""
    assert weight("sitegate.hub", "P-1") == weight("sitegate.hub", "P-1")
    assert weight("sitegate.hub", "P-1") == 0x73D0EFB3323C87D5
    assert weight("sitegate.hub", "P-1") != weight("sitegate.hub.2", "P-1")


@settings(max_examples=20)
@given(st.integers(min_value=2, max_value=5), st.integers(min_value=0, max_value=1000))
def test_the_shares_are_even(count: int, salt: int) -> None:
    instances = [f"hub-{salt}-{n}" for n in range(count)]
    projects = [f"P-{n:05d}" for n in range(2000)]
    shares = {instance: 0 for instance in instances}
    for project in projects:
        shares[owner(project, instances)] += 1
    fair = len(projects) / count
    assert all(0.8 * fair <= share <= 1.2 * fair for share in shares.values()), shares


@given(instance_ids, project_ids, st.from_regex(r"new-[a-z0-9]{1,8}", fullmatch=True))
def test_a_joining_instance_takes_only_what_it_now_owns(
    instances: list[str], projects: list[str], newcomer: str
) -> None:
    for project in projects:
        before, after = owner(project, instances), owner(project, [*instances, newcomer])
        assert after in (before, newcomer)


@given(instance_ids.filter(lambda ids: len(ids) >= 2), project_ids)
def test_a_leaving_instance_moves_only_its_own_projects(instances: list[str], projects: list[str]) -> None:
    leaving, staying = instances[0], instances[1:]
    for project in projects:
        before = owner(project, instances)
        if before != leaving:
            assert owner(project, staying) == before


def test_alone_an_instance_owns_everything_and_gained_is_what_moved() -> None:
    alone = Ownership.alone("a")
    assert alone.owns("anything") and alone.is_alone
    both = Ownership("a", frozenset({"a", "b"}))
    projects = [f"P-{n}" for n in range(50)]
    kept = [p for p in projects if both.owns(p)]
    assert 0 < len(kept) < len(projects)
    assert alone.gained(both, projects) == [p for p in projects if p not in kept]
    assert both.gained(alone, projects) == []
