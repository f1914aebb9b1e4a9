"""When a lane sends its outstanding events again (controller.resend_timer), on a made-up clock."""

from __future__ import annotations

from controller.resend_timer import ResendTimer


def test_a_silent_hub_gets_the_window_again_every_after_s() -> None:
    timer = ResendTimer(10, 60, now=0)
    assert not timer.resend_due(10)
    assert timer.resend_due(10.5)
    assert not timer.resend_due(20)
    assert timer.resend_due(21)  # no ack at all: never backs off
    assert timer.patience == 10


def test_a_hub_whose_watermark_moves_is_given_longer_up_to_the_cap() -> None:
    timer = ResendTimer(10, 60, now=0)
    timer.progress(5, caught_up=False)
    assert not timer.resend_due(16)  # silent 11 s, but it moved: 20 s allowed now
    assert timer.patience == 20
    assert not timer.resend_due(25)
    timer.progress(30, caught_up=False)
    assert not timer.resend_due(51) and timer.patience == 40
    timer.progress(60, caught_up=False)
    assert not timer.resend_due(101) and timer.patience == 60  # the cap
    timer.progress(110, caught_up=False)
    assert not timer.resend_due(170)
    assert timer.resend_due(171)  # at the cap, nothing for 61 s: silent
    assert timer.ran_out == 60 and timer.patience == 10


def test_a_watermark_stuck_for_a_whole_allowance_is_a_loss_not_a_slow_hub() -> None:
    """The hub that took the events after the watermark died (tests/test_benches.py's failover
    bench): acks from before the loss buy one doubling, not the cap."""
    timer = ResendTimer(10, 60, now=0)
    timer.progress(5, caught_up=False)
    assert not timer.resend_due(15.5) and timer.patience == 20
    assert not timer.resend_due(25)
    assert timer.resend_due(25.5)  # 20.5 s since its last ack, none since the allowance ran out
    assert timer.ran_out == 20 and timer.patience == 10
    assert not timer.resend_due(35)
    assert timer.resend_due(35.6)  # and silent from then on: every after_s, as ever


def test_catching_up_or_a_new_run_brings_back_after_s() -> None:
    timer = ResendTimer(10, 60, now=0)
    timer.progress(5, caught_up=False)
    assert not timer.resend_due(16)
    timer.progress(17, caught_up=True)
    assert timer.patience == 10
    timer.start(20)
    assert not timer.resend_due(30.5) and timer.patience == 20  # it acknowledged 13.5 s ago
    timer.start(100)  # a new run, the last ack long ago
    assert timer.patience == 10 and timer.resend_due(110.5)


def test_no_backing_off_at_or_below_after_s() -> None:
    timer = ResendTimer(10, 5, now=0)
    timer.progress(1, caught_up=False)
    assert timer.resend_due(11.5)


def _resends_to_a_lagging_hub(max_s: float) -> int:
    """A lane's drain against a hub falling behind (as at 3,000 lanes in issue 16, minutes behind):
    it stores each event 0.5 s later per second of the run, up to 195 s, while the lane journals
    an event every 14 s for 15 minutes and looks every 5 s (resend_after_s / 2), as
    controller.uplink does. Returns how often it sent its outstanding events again."""
    every, step = 14.0, 5.0
    first_sent: dict[int, float] = {}
    journalled = acked = sent_through = resends = 0
    timer = ResendTimer(10, max_s, now=0)
    now = 0.0
    while now < 900:
        while journalled * every <= now:
            journalled += 1
        stored = [seq for seq, at in first_sent.items() if at + min(195, at / 2) <= now]
        through = min(max(stored, default=acked), sent_through)
        if through > acked:
            acked = through
            timer.progress(now, caught_up=acked >= sent_through)
        resending = sent_through > acked and timer.resend_due(now)
        if resending:
            resends += 1
        if journalled > sent_through:
            if sent_through == acked and not resending:
                timer.start(now)
            for seq in range(sent_through + 1, journalled + 1):
                first_sent[seq] = now
            sent_through = journalled
        now += step
    return resends


def test_a_lagging_hub_is_not_sent_its_backlog_again_and_again() -> None:
    fixed = _resends_to_a_lagging_hub(max_s=10)  # the policy before: resend after 10 s, always
    backing_off = _resends_to_a_lagging_hub(max_s=60)
    assert fixed >= 15
    assert backing_off <= fixed // 5
