"""A roster swap SIGKILLed before each of its steps leaves one complete roster file.

A forked child runs the swap and kills itself just before its n-th C-level call, for n = 1, 2, ...
until the swap completes, so every state a kill can leave on disk is visited once. The file must
then load as the old or the new version, with no fault (so without needing the ``.prev`` fallback,
which ``test_roster_store.py`` covers for files torn by something else), and the next swap must
succeed over whatever the kill left behind.
"""

from collections.abc import Callable
from itertools import count
from pathlib import Path

import pytest

from controller.atomic_storage import write_atomically
from controller.roster_store import load_roster, save_roster
from tests.support.powercut import PROJECT_ID, roster_items, roster_problem, run_killed_before_call


def _roster_bytes(scratch: Path, version: int) -> bytes:
    save_roster(scratch, version, PROJECT_ID, roster_items(version))
    return scratch.read_bytes()


def _kill_at_every_step(
    tmp_path: Path, write: Callable[[Path, bytes], object], old_versions: list[int], new_version: int
) -> list[tuple[int, int | None, str | None]]:
    """For each step n: fresh lane dir with ``old_versions`` saved, swap killed before step n.

    Returns (n, loaded version or None if empty, fault) per step, the last one unkilled.
    """
    data = _roster_bytes(tmp_path / "scratch.json", new_version)
    outcomes: list[tuple[int, int | None, str | None]] = []
    for n in count(1):
        lane = tmp_path / f"step-{n}"
        lane.mkdir()
        path = lane / "roster.json"
        for old in old_versions:
            save_roster(path, old, PROJECT_ID, roster_items(old))
        killed = run_killed_before_call(n, lambda: write(path, data))  # noqa: B023 (runs now)
        loaded = load_roster(path)
        version = loaded.roster.version or None
        if version is not None:
            assert roster_problem(loaded.roster) is None, f"step {n}: {roster_problem(loaded.roster)}"
        outcomes.append((n, version, loaded.fault))
        if not killed:
            return outcomes
        # The lane reboots; the next swap must work over any leftovers (temp files, links).
        save_roster(path, 99, PROJECT_ID, roster_items(99))
        after = load_roster(path)
        assert (after.roster.version, after.fault) == (99, None), f"step {n}: next swap gave {after}"
    raise AssertionError("unreachable")


@pytest.mark.parametrize("old_versions", [[1, 2], [1], []], ids=["with-prev", "first-swap", "first-save"])
def test_a_swap_killed_before_any_step_leaves_the_old_or_the_new_version(
    tmp_path: Path, old_versions: list[int]
) -> None:
    outcomes = _kill_at_every_step(tmp_path, write_atomically, old_versions, new_version=3)
    assert len(outcomes) > 5  # the steps really were visited one by one
    old = old_versions[-1] if old_versions else None
    bad = [(n, version, fault) for n, version, fault in outcomes if version not in (old, 3)]
    assert not bad, f"kills left neither the old nor the new version: {bad}"
    if old is not None:
        faults = [(n, fault) for n, _, fault in outcomes if fault is not None]
        assert not faults, f"kills left a roster that loads only with a fault: {faults}"
    assert outcomes[-1][1:] == (3, None)
    assert [v for _, v, _ in outcomes].count(3) >= 1


def test_the_kill_rig_catches_an_in_place_write(tmp_path: Path) -> None:
    """The same kills against a plain truncate-and-write must show up, or the rig proves nothing."""
    outcomes = _kill_at_every_step(tmp_path, Path.write_bytes, [1, 2], new_version=3)
    assert any(fault is not None and "damaged" in fault for _, _, fault in outcomes)


def test_a_completed_swap_keeps_the_version_it_replaced_as_prev(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    for version in (1, 2, 3):
        save_roster(path, version, PROJECT_ID, roster_items(version))
    previous = load_roster(path.with_name("roster.json.prev"))
    assert (previous.roster.version, previous.fault) == (2, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roster.json", "roster.json.prev"]
