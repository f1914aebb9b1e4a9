"""The roster compiler and publisher: from the registry's facts to signed rosters on every lane.

:func:`compile_snapshot` / :func:`compile_delta` make the signed messages of :mod:`wire.roster`;
:class:`RosterPublisher` mints versions (kept monotonic in the database by :class:`RosterLedger`),
sends them to a project's lanes and answers their :class:`~wire.roster.RosterStatus` reports.
The registry plugs in as a :class:`RosterSource`.
"""

from hub.lane_sender import Sender
from hub.rosters.compile import compile_delta, compile_snapshot, snapshot_of
from hub.rosters.content import RosterContent, RosterDataError, roster_content
from hub.rosters.keys import SigningKeyError, load_signing_key, public_key_b64
from hub.rosters.ledger import LaneRoster, RosterLedger
from hub.rosters.publisher import RosterPublisher
from hub.rosters.release import Release
from hub.rosters.source import MemorySource, RosterSource

__all__ = [
    "LaneRoster",
    "MemorySource",
    "Release",
    "RosterContent",
    "RosterDataError",
    "RosterLedger",
    "RosterPublisher",
    "RosterSource",
    "Sender",
    "SigningKeyError",
    "compile_delta",
    "compile_snapshot",
    "load_signing_key",
    "public_key_b64",
    "roster_content",
    "snapshot_of",
]
