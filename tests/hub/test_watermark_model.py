"""The journal's watermarks and seq claims against a model, for any batching of any stream.

The store moves a watermark from the batch alone when the batch runs on from it without a hole,
and asks the other kind's table only about seqs at or below ``highest_seen``; everything else
goes through the database. Random streams (in order, resent, out of order, both kinds, reused
seqs) reach both paths; after every batch the result and the stored state must be the model's.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.events.internal import InternalEventReads
from hub.events.journal import store_events
from hub.store import Store
from hub.store.records import JournalRecord
from tests.hub.factories import make_event, make_lane_event
from wire.models import LaneEventType

ACCESS, LANE = "access_event", "lane_event"
EXAMPLES = itertools.count()


@dataclass
class Model:
    """What the journal promises: the first record of a seq claims it for its kind for good."""

    owners: dict[int, str] = field(default_factory=dict)
    highest: int = 0

    def store(self, batch: list[tuple[int, str]]) -> set[tuple[int, str]]:
        """Apply a batch; returns the (seq, kind) the store must refuse as reused."""
        refused = set()
        for seq, kind in batch:
            owner = self.owners.setdefault(seq, kind)
            if owner != kind:
                refused.add((seq, kind))
            self.highest = max(self.highest, seq)
        return refused

    @property
    def through(self) -> int:
        through = 0
        while through + 1 in self.owners:
            through += 1
        return through

    @property
    def gap_count(self) -> int:
        return sum(1 for seq in range(self.through + 1, self.highest + 1) if seq not in self.owners)


def record(device_id: str, seq: int, kind: str) -> JournalRecord:
    if kind == ACCESS:
        return make_event(seq, device_id=device_id)
    return make_lane_event(seq, LaneEventType.TAMPER, device_id=device_id)  # refers to no record


@st.composite
def streams(draw: st.DrawFn) -> list[list[tuple[int, str]]]:
    """Batches of (seq, kind): mostly runs in order, with resends, jumps back and reused seqs."""
    last = draw(st.integers(1, 40))
    in_order = [(seq, draw(st.sampled_from([ACCESS, ACCESS, LANE]))) for seq in range(1, last + 1)]
    shuffled = draw(st.booleans())
    sent = draw(st.permutations(in_order)) if shuffled else list(in_order)
    extra = draw(st.lists(st.tuples(st.integers(1, last + 5), st.sampled_from([ACCESS, LANE])), max_size=8))
    for item in extra:  # resends of either kind (a reused seq when the kind differs), and jumps ahead
        sent.insert(draw(st.integers(0, len(sent))), item)
    sizes = draw(st.lists(st.integers(1, 12), min_size=1, max_size=6))
    batches, at = [], 0
    while at < len(sent):
        size = sizes[len(batches) % len(sizes)]
        batches.append(sent[at : at + size])
        at += size
    return batches


# 20 examples (40 before; each is up to ~50 batches through the store): four wrong models (reused
# seqs not refused, gaps counted per kind, a watermark over one kind only, a hole filled late never
# closing it) each failed within the first 6 examples of this derandomized run.
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=streams())
async def test_every_batch_leaves_the_watermark_and_the_claims_the_model_s(
    store: Store, batches: list[list[tuple[int, str]]]
) -> None:
    device_id = f"lane-m{next(EXAMPLES):05d}"  # a device of its own: examples share the store
    model = Model()
    for batch in batches:
        refused = model.store(batch)
        result = await store_events(store, [record(device_id, seq, kind) for seq, kind in batch])
        assert {(c.seq, c.kind) for c in result.conflicts} == refused
        assert result.watermarks == {device_id: model.through}
        assert (device_id in result.gaps) == (model.highest > model.through)
        [state] = [s for s in await InternalEventReads(store).sequences() if s.device_id == device_id]
        assert (state.contiguous_through, state.highest_seen, state.gap_count) == (
            model.through,
            model.highest,
            model.gap_count,
        )
    access = {
        e.seq
        for e in (await InternalEventReads(store).access_events(limit=1000)).items
        if e.device_id == device_id
    }
    lane = {
        e.seq
        for e in (await InternalEventReads(store).lane_events(limit=1000)).items
        if e.device_id == device_id
    }
    assert access == {seq for seq, kind in model.owners.items() if kind == ACCESS}
    assert lane == {seq for seq, kind in model.owners.items() if kind == LANE}
