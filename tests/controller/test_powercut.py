"""Power cuts (SIGKILL) at random points in a running lane: nothing pulsed is lost, no roster torn.

The rig lives in ``tests/support/powercut.py``; ``bench/powercut.py`` runs the long version.
"""

from pathlib import Path

from tests.support.powercut import PowerCutRig, run_trials


def test_kills_lose_no_pulsed_event_and_never_tear_the_roster(tmp_path: Path) -> None:
    tally = run_trials(tmp_path, 25, seed=20261124)
    assert tally.problems == []
    assert (tally.lost_events, tally.corrupt_rosters, tally.journal_faults, tally.child_errors) == (
        0,
        0,
        0,
        0,
    )
    assert tally.roster_fallbacks == 0  # the current file itself is complete; .prev is never needed
    # The lane got to work before the kills, and kept going across them.
    assert tally.kills_at_startup < tally.trials
    assert tally.events_pulsed > 25
    assert tally.roster_swaps > 0
    assert tally.last_seq >= tally.events_pulsed


def test_the_rig_catches_a_relay_that_moves_before_the_commit(tmp_path: Path) -> None:
    """Pulse first, journal second: some kill must land in between, or the rig proves nothing."""
    rig = PowerCutRig(tmp_path, seed=7, swap_rosters=False, pulse_before_commit=True)
    for _ in range(60):
        rig.trial()
        if rig.tally.lost_events:
            break
    assert rig.tally.lost_events > 0
    assert rig.tally.journal_faults == 0  # the journal itself stays sound; it just was never told
