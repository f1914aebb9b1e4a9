"""The roster messages themselves: row form, limits, canonical bytes, body and chunks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.support.roster_reference import body_lines, chunk_lines, parse_chunk
from wire.message_errors import WireError
from wire.models import utc_now
from wire.roster import (
    CHUNK_BYTES,
    MAX_DELTA_CHANGES,
    ROW_FIELDS,
    RosterChunk,
    RosterDelta,
    RosterItem,
    RosterManifest,
    RosterRole,
    RosterStatus,
    body_bytes,
    check_item_mappings,
    chunk_body,
    decode_roster,
    decode_roster_status,
    encode_roster,
    split_chunk,
)
from wire.signing import canonical_bytes

from .support import digest

H = digest(1)


def test_an_entry_travels_as_a_compact_row() -> None:
    item = RosterItem(credential_hash=H, person_id="p-1", role="worker", entry_date=date(2025, 3, 1))
    assert json.loads(item.model_dump_json()) == [H, "p-1", "worker", "2025-03-01", None]
    assert RosterItem.from_row(json.loads(item.model_dump_json())) == item


def test_a_visitor_row_carries_the_pass_window() -> None:
    start = datetime(2025, 3, 1, 9, tzinfo=timezone(timedelta(hours=8)))
    item = RosterItem(
        credential_hash=H,
        person_id="v-1",
        role="visitor",
        pass_from=start,
        pass_until=start + timedelta(hours=4),
    )
    row = json.loads(item.model_dump_json())
    assert row[5:] == ["2025-03-01T09:00:00+08:00", "2025-03-01T13:00:00+08:00"]
    assert RosterItem.from_row(row) == item


@pytest.mark.parametrize(
    "row",
    [
        [H, "p-1", "worker", None],  # too short
        [H, "p-1", "boss", None, None],  # unknown role
        ["not-a-hash", "p-1", "worker", None, None],
        [H, "p\n1", "worker", None, None],  # control character in a label
        [H, "p-1", "visitor", None, None, "2025-01-01T10:00:00+08:00", "2025-01-01T09:00:00+08:00"],
        [H, "p-1", "visitor", None, None, "2025-01-01T10:00:00", "2025-01-01T11:00:00"],  # naive
    ],
)
def test_bad_rows_are_refused(row: list[object]) -> None:
    with pytest.raises(ValidationError):
        RosterItem.from_row(row)


def test_the_bulk_form_checks_what_the_model_checks() -> None:
    from wire.roster import _ITEMS_AS_MAPPINGS

    bulk = _ITEMS_AS_MAPPINGS.json_schema()["$defs"]["RosterItemFields"]
    model = RosterItem.model_json_schema(mode="validation")
    without_defaults = {
        name: {k: v for k, v in field.items() if k != "default"}
        for name, field in model["properties"].items()
    }
    # The role is checked by its values (a literal), the model's by the enum: the same values.
    bulk_role, model_role = bulk["properties"].pop("role"), without_defaults.pop("role")
    assert bulk_role["enum"] == model["$defs"][model_role["$ref"].split("/")[-1]]["enum"]
    assert bulk["properties"] == without_defaults
    assert sorted(bulk["required"]) == sorted(model["required"])
    assert bulk["additionalProperties"] is False


@pytest.mark.parametrize(
    "row",
    [
        [H, "p-1", "boss", None, None],
        ["not-a-hash", "p-1", "worker", None, None],
        [H, "p\n1", "worker", None, None],
        [H, "p-1", "visitor", None, None, "2025-01-01T10:00:00", "2025-01-01T11:00:00"],  # naive
    ],
)
def test_the_bulk_check_refuses_what_the_model_refuses(row: list[object]) -> None:
    fields = {k: v for k, v in zip(ROW_FIELDS, row, strict=False) if v is not None}
    with pytest.raises(ValidationError):
        RosterItem.from_row(row)
    with pytest.raises(ValidationError):
        check_item_mappings([fields])


def test_a_delta_moves_one_version_and_stays_small() -> None:
    now = utc_now()
    with pytest.raises(ValueError, match="from_version"):
        RosterDelta(project_id="P", from_version=3, to_version=5, issued_at=now)
    too_many = tuple(digest(i) for i in range(MAX_DELTA_CHANGES + 1))
    with pytest.raises(ValueError, match="at most"):
        RosterDelta(project_id="P", from_version=3, to_version=4, removals=too_many, issued_at=now)
    item = RosterItem(credential_hash=H, person_id="p-1", role="worker")
    with pytest.raises(ValueError, match="twice"):
        RosterDelta(
            project_id="P", from_version=3, to_version=4, upserts=(item,), removals=(H,), issued_at=now
        )


def test_key_id_and_signature_go_together() -> None:
    with pytest.raises(ValueError, match="together"):
        RosterManifest(
            project_id="P", version=1, entries=0, chunk_hashes=(), issued_at=utc_now(), key_id="0" * 16
        )


def test_canonical_bytes_ignore_the_signature_and_the_sender_s_formatting() -> None:
    manifest = RosterManifest(
        project_id="P", version=2, entries=1, chunk_hashes=(H,), issued_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    signed = manifest.model_copy(update={"key_id": "ab" * 8, "signature": "A" * 86 + "=="})
    assert canonical_bytes(signed) == canonical_bytes(manifest.model_copy(update={"key_id": "ab" * 8}))
    # The same message re-serialised with other spacing and key order decodes to the same bytes.
    loose = json.dumps(json.loads(encode_roster(signed)), indent=2, sort_keys=False).encode()
    reread = decode_roster(loose)
    assert isinstance(reread, RosterManifest)
    assert canonical_bytes(reread) == canonical_bytes(signed)
    assert json.loads(canonical_bytes(signed))["issued_at"] == "2026-01-01T00:00:00+00:00"


def test_body_lines_are_sorted_and_chunks_hold_whole_lines() -> None:
    rows = [(digest(i), f"p-{i}", "worker", None, None) for i in range(300)]
    watchlist = [digest(7), digest(3)]
    lines = list(body_lines(reversed(rows), watchlist))
    assert lines[-2:] == [f'"{h}"\n'.encode() for h in sorted(watchlist)]
    hashes = [json.loads(line)[0] for line in lines[:-2]]
    assert hashes == sorted(hashes)
    chunks = chunk_lines(lines, limit=1000)
    assert all(len(chunk) <= 1000 and chunk.endswith(b"\n") for chunk in chunks)
    assert b"".join(chunks) == b"".join(lines)
    parsed = [parse_chunk(chunk) for chunk in chunks]
    assert sum(len(r) for r, _ in parsed) == 300
    assert [h for _, listed in parsed for h in listed] == sorted(watchlist)


names = st.text(min_size=1, max_size=20) | st.sampled_from(["],[", 'a"],["b', "x\\", "\n", "名字", '"'])
body_rows = st.lists(
    st.tuples(
        st.integers(0, 10_000).map(digest),
        names,
        st.sampled_from([role.value for role in RosterRole]),
        st.none() | st.sampled_from(["2025-01-01", "2026-12-31"]),
        st.none() | st.just("2025-06-01"),
    ).map(lambda row: row if row[2] != "visitor" else (*row, "2025-06-01T08:00:00+08:00", None)),
    max_size=40,
    unique_by=lambda row: row[0],
)


@settings(max_examples=200, deadline=None)
@given(
    rows=body_rows, listed=st.sets(st.integers(0, 50).map(digest), max_size=3), limit=st.integers(300, 2000)
)
def test_the_whole_body_encoder_and_cutter_agree_with_the_line_at_a_time_ones(
    rows: list[tuple[str | None, ...]], listed: set[str], limit: int
) -> None:
    lines = list(body_lines(rows, listed))
    body = body_bytes(rows, listed)
    assert body == b"".join(lines)
    assert chunk_body(body, limit) == chunk_lines(lines, limit)
    for chunk in chunk_body(body, limit):
        entries, hashes = split_chunk(chunk)
        assert json.loads(entries) == parse_chunk(chunk)[0]
        assert hashes == parse_chunk(chunk)[1]


def test_the_cutter_refuses_a_line_longer_than_a_chunk() -> None:
    with pytest.raises(ValueError, match="a roster line of 11 bytes exceeds the chunk limit 10"):
        chunk_body(b"12345\n" + b"x" * 10 + b"\n", 10)


def test_watchlist_lines_come_last_in_a_chunk() -> None:
    assert split_chunk(b'[1]\n"ab"\n') == (b"[[1]]", ["ab"])
    assert split_chunk(b'"ab"\n"cd"\n') == (b"[]", ["ab", "cd"])
    with pytest.raises(ValueError, match="not a hash"):
        split_chunk(b'"ab"\n[1]\n"cd"\n')
    entries, _ = split_chunk(b'[1]\n"ab"\n[2]\n')  # an entry after the watchlist began
    assert json.loads(entries) == [[1], "ab", [2]]  # which the lane then refuses: not an entry


def test_a_line_with_a_newline_in_a_name_stays_one_line() -> None:
    [line] = body_lines([(H, "a\nb", "worker", None, None)], [])
    assert line.count(b"\n") == 1
    rows, _ = parse_chunk(line)
    assert rows == [[H, "a\nb", "worker", None, None]]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b'[1,2]\n{"a":1}\n', "neither"),
        (b"[1,2]", "middle of a line"),
        (b"3\n", "(int)"),
        (b"[1,\n", "Expecting"),
    ],
)
def test_parse_chunk_refuses_what_is_not_rows_and_hashes(data: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_chunk(data)


def test_a_full_chunk_is_far_below_the_brokers_limits() -> None:
    full = base64.b64encode(bytes(CHUNK_BYTES)).decode()
    chunk = RosterChunk(project_id="P", version=1, index=0, data=full)
    assert len(encode_roster(chunk)) < 100_000
    with pytest.raises(ValidationError, match="at most"):
        RosterChunk(project_id="P", version=1, index=0, data=full + "AAAA")


def test_decoding_names_fields_never_values() -> None:
    with pytest.raises(WireError) as caught:
        decode_roster(b'{"kind":"roster_chunk","project_id":"P","version":0,"index":0,"data":"secret!"}')
    assert "version" in str(caught.value)
    assert "secret" not in str(caught.value)
    with pytest.raises(WireError, match="exceeds"):
        decode_roster(b" " * (600 * 1024))


def test_a_status_round_trips() -> None:
    status = RosterStatus(
        device_id="lane-a1", project_id="P", applied_version=3, wants_snapshot=True, problem="x"
    )
    assert decode_roster_status(encode_roster(status)) == status
    with pytest.raises(WireError):
        decode_roster_status(
            b'{"kind":"roster_status","device_id":"lane-a1","project_id":"P","applied_version":-1}'
        )
