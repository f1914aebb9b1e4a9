"""Store records as JSON objects: ISO 8601 times, no internal row ids, no payload bodies."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from hub.devices.records import OFFLINE_AFTER_KEEPALIVES, CommandRecord, DeviceStatus
from hub.events.records import EventCount, StoredEvent, StoredLaneEvent
from hub.ingest import IngestCounters
from hub.store import DeadLetter, SequenceState


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _record(record: StoredEvent | StoredLaneEvent) -> dict[str, Any]:
    """Every field but the row id (it only orders a page), times as ISO 8601."""
    body = {f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.name != "row_id"}
    body["wall_time"] = _time(record.wall_time)
    body["received_at"] = _time(record.received_at)
    return body


def event(record: StoredEvent) -> dict[str, Any]:
    body = _record(record)
    body["warnings"] = [w for w in record.warnings.split(",") if w]
    body["corrected_time"] = _time(record.corrected_time)
    return body


def lane_event(record: StoredLaneEvent) -> dict[str, Any]:
    return _record(record)


def count(record: EventCount) -> dict[str, Any]:
    return {**record.group, "count": record.count}


def dead_letter(record: DeadLetter) -> dict[str, Any]:
    return {
        "received_at": _time(record.received_at),
        "topic": record.topic,
        "reason": record.reason,
        "size": record.payload_size,
    }


def sequence(record: SequenceState) -> dict[str, Any]:
    return dataclasses.asdict(record)


def counters(record: IngestCounters) -> dict[str, int]:
    return dataclasses.asdict(record)


def liveness(record: DeviceStatus, now: datetime, keepalive_s: float) -> str:
    """``online`` only while the device's own last word was ``online`` *and* it has been heard
    from recently: a crashed device whose last will was lost still goes offline on time.
    Derived on every read, so no hub instance keeps a timer another would need. ``revoked``
    above all: the broker may keep a revoked lane's session open (its ACL denies every publish),
    so its presence can still read online while the hub refuses whatever it says."""
    if record.revoked_at is not None:
        return "revoked"
    if record.presence_state != "online" or record.last_seen_at is None:
        return "offline"
    silent_s = (now - record.last_seen_at).total_seconds()
    return "online" if silent_s <= OFFLINE_AFTER_KEEPALIVES * keepalive_s else "offline"


def device(record: DeviceStatus, now: datetime, keepalive_s: float) -> dict[str, Any]:
    return {
        "device_id": record.device_id,
        "status": liveness(record, now, keepalive_s),
        "presence": record.presence_state,
        "presence_generation": record.presence_generation,
        "presence_at": _time(record.presence_at),
        "last_seen_at": _time(record.last_seen_at),
        "last_heartbeat": record.last_heartbeat,
        "enrolled_at": _time(record.enrolled_at),
        "revoked_at": _time(record.revoked_at),
        "roster": {
            "applied_version": record.roster_applied,
            "current_version": record.roster_current,
            "lag": None
            if record.roster_applied is None or record.roster_current is None
            else max(0, record.roster_current - record.roster_applied),
            "problem": record.roster_problem,
        },
    }


def command(record: CommandRecord) -> dict[str, Any]:
    result = None
    if record.result_at is not None:
        result = {"ok": record.result_ok, "detail": record.result_detail, "at": _time(record.result_at)}
    return {
        "command_id": record.command_id,
        "device_id": record.device_id,
        "action": record.action,
        "operator": record.operator,
        "log_level": record.log_level,
        "issued_at": _time(record.issued_at),
        "expires_at": _time(record.expires_at),
        "result": result,
    }
