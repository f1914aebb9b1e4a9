"""Rosters on the wire: a signed snapshot (manifest + chunks), a signed delta, the lane's status.

Invariant 4 (versioned, signed, swapped whole) is kept with one signature per version: the hub
signs the manifest, which lists the sha256 of every chunk, or the delta. A chunk carries no
signature of its own; a lane checks it against the signed manifest, so a lane can refuse a bad
chunk the moment it arrives and never has to hold unverified bytes. The signature and the bytes
it covers are :mod:`wire.signing`'s, shared with the site messages.

One entry type: :class:`RosterItem`, one person's pass on a project. It travels as a
:data:`Row`, a compact JSON array ``[hash, person_id, role, entry_date, exit_date]`` (plus
``pass_from, pass_until`` for a visitor's pass), in a delta and in a snapshot's body alike. The
roles are :class:`~wire.roles.RosterRole`, the one definition the hub's registry and the lanes share.

A snapshot's body (the canonical serialisation of a roster, :func:`body_bytes`) is a sequence of
lines, each ending in ``\\n``: one row per entry, sorted by credential hash, then one per
watchlisted hash, a JSON string, sorted. A line never straddles a chunk (:func:`chunk_body`), so a
lane parses each chunk as it arrives, while the next ones are still on the way; a chunk's entry
lines joined by commas between brackets are one JSON array (:func:`split_chunk`), parsed in one
call. At ~110 bytes an entry, a 100,000-person roster is ~11 MB: about 170 chunks of at most 64 KB.
Checking a row's fields on the lane is :mod:`controller.roster_rows`'s; the line-at-a-time
reference versions of the encoder and the cutter live in the tests (``tests/support/roster_reference.py``).

A project's site rules (:class:`RosterRules`: working hours per role, anti-passback, night-work
permits) travel in the manifest and the delta, so the one signature covers them with the entries
and a lane swaps them in with the roster they came with. A manifest without rules (a project whose
rules were never set, an older hub) leaves the lane on its configuration's bootstrap policy; a delta
without rules keeps the rules of the version it applies to. ``rules`` is left out of a message, and
of the bytes signed, when it is None: a roster without rules is the same message as before rules.

Pure: pydantic and the standard library.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any, Literal, NotRequired, Required

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
    with_config,
)
from typing_extensions import TypedDict

from wire.codec import MAX_PAYLOAD_BYTES
from wire.message_errors import WireError
from wire.models import (
    HEX_DIGEST_PATTERN,
    INT64_MAX,
    Count,
    DeviceId,
    Label,
    ProjectId,
    WireModel,
)
from wire.roles import RosterRole as RosterRole  # the one definition, named here too
from wire.signing import Signed

CHUNK_BYTES = 64 * 1024
"""Most bytes of the body one chunk carries (before base64): far below any broker's limit."""
MAX_CHUNKS = 4096
"""256 MB of body, ~2 million entries: a manifest listing them all stays under 300 KB."""
MAX_DELTA_CHANGES = 500
"""A delta carries at most this many changes (entries and watchlist together); more is a snapshot."""
MAX_ROSTER_PAYLOAD_BYTES = 512 * 1024
"""The largest message on a roster topic: a full manifest (~275 KB) or a full delta (~130 KB)."""

_B64_CHUNK_CHARS = 4 * -(-CHUNK_BYTES // 3)


CredentialHash = Annotated[str, Field(pattern=HEX_DIGEST_PATTERN)]
Version = Annotated[int, Field(ge=1, le=INT64_MAX)]
Problem = Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$")]

Row = tuple[str | None, ...]
"""A :class:`RosterItem` as it travels (a JSON array): 5 fields, or 7 with a visitor's pass window."""
ROW_FIELDS = ("credential_hash", "person_id", "role", "entry_date", "exit_date", "pass_from", "pass_until")


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class RosterItem(WireModel):
    """One person's pass on a project, as the hub compiles it and a delta carries it.

    Serialised as a :data:`Row` (a JSON array), the same form the snapshot body uses, so an entry
    has one wire form however it travels.
    """

    credential_hash: CredentialHash
    person_id: Label
    role: RosterRole
    entry_date: date | None = None
    exit_date: date | None = None
    pass_from: AwareDatetime | None = None
    pass_until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _window_in_order(self) -> RosterItem:
        problem = window_problem(self.pass_from, self.pass_until)
        if problem is not None:
            raise ValueError(problem)
        return self

    def row(self) -> Row:
        return row_of(self.__dict__)

    @model_serializer(mode="plain")
    def _to_row(self) -> list[str | None]:
        return list(self.row())

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> RosterItem:
        """pydantic's ValidationError (a ValueError) for a row that is not a valid entry."""
        return _ITEM_ROW.validate_python(row)


def _fields_of_row(value: Any) -> Any:
    """A row (JSON array) as the model's fields; a field validator, not a model one, so that the
    hub validating 100,000 entries given as mappings does not pay for it on each."""
    if isinstance(value, list | tuple):
        if len(value) not in (5, 7):
            raise ValueError(f"a roster row has 5 or 7 fields, not {len(value)}")
        return dict(zip(ROW_FIELDS, value, strict=False))
    return value


_ItemAsRow = Annotated[RosterItem, BeforeValidator(_fields_of_row)]
"""A :class:`RosterItem` that arrives as a row."""
_ITEM_ROW: TypeAdapter[RosterItem] = TypeAdapter(_ItemAsRow)


def _as_mapping_fields(model: type[WireModel]) -> Any:
    """``model``'s fields as a TypedDict with the same names, types and constraints, built from
    the model itself so the two cannot drift apart. An enum is checked as the literal values of
    its members: pydantic checks those faster, and the values stay plain strings."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        kind: Any = info.annotation
        if isinstance(kind, type) and issubclass(kind, StrEnum):
            kind = Literal[tuple(member.value for member in kind)]
        if info.metadata:
            kind = Annotated[(kind, *info.metadata)]
        fields[name] = Required[kind] if info.is_required() else NotRequired[kind]
    form = TypedDict(f"{model.__name__}Fields", fields)  # type: ignore[misc]
    return with_config(ConfigDict(extra="forbid"))(form)


_ITEM_MAPPING: Any = _as_mapping_fields(RosterItem)
_ITEMS_AS_MAPPINGS: TypeAdapter[list[dict[str, Any]]] = TypeAdapter(list[_ITEM_MAPPING])


def check_item_mappings(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Many :class:`RosterItem`'s fields, given as mappings, checked in one call; ValidationError
    locates each problem by position and field.

    What the model checks field by field, without making a model each: pydantic checks 100,000
    mappings in 0.04 s against 0.4 s for as many models, which is most of compiling a roster. The
    pass window's order (the model's one check across fields) is :func:`window_problem`'s, after.
    """
    return _ITEMS_AS_MAPPINGS.validate_python(items)


def window_problem(pass_from: datetime | None, pass_until: datetime | None) -> str | None:
    if pass_from is not None and pass_until is not None and pass_until <= pass_from:
        return "pass_until must be after pass_from"
    return None


def row_of(fields: Mapping[str, Any]) -> Row:
    """The row of an entry's fields: 5 values, or 7 when it has a pass window."""
    head: Row = (
        fields["credential_hash"],
        fields["person_id"],
        fields["role"],
        _iso(fields.get("entry_date")),
        _iso(fields.get("exit_date")),
    )
    pass_from, pass_until = fields.get("pass_from"), fields.get("pass_until")
    if pass_from is None and pass_until is None:
        return head
    return (*head, _iso(pass_from), _iso(pass_until))


HOURS_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"
"""Site-local ``"HH:MM-HH:MM"``; an end before the start spans midnight."""
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
MAX_NIGHT_WORK = 64
"""Night-work permits one project's rules carry at once (the hub keeps the current ones)."""

AntiPassbackMode = Literal["off", "soft", "hard"]
"""The values of the lane's ``controller.core.policy.AntiPassback``."""
Hours = Annotated[str, Field(pattern=HOURS_PATTERN)]
TimeOfDay = Annotated[str, Field(pattern=TIME_OF_DAY_PATTERN)]


def hours_problem(text: str) -> str | None:
    """Why a well-formed ``"HH:MM-HH:MM"`` is not a window (its two ends are the same), or None."""
    start, end = text.split("-")
    return f"start and end of {text!r} are the same" if start == end else None


def clock_time(text: str) -> time:
    return time.fromisoformat(text)


class NightWorkWindow(WireModel):
    """A night-work permit (夜间施工): its number, the site-local dates it covers (a window that
    spans midnight counts for the date it starts on), its window, and the roles it admits (none
    named: every role with working hours)."""

    permit: Label
    first_date: date
    last_date: date
    hours: Hours
    roles: Annotated[tuple[RosterRole, ...], Field(max_length=len(RosterRole))] = ()

    @model_validator(mode="after")
    def _coherent(self) -> NightWorkWindow:
        if self.last_date < self.first_date:
            raise ValueError("last_date is before first_date")
        problem = hours_problem(self.hours)
        if problem is not None:
            raise ValueError(f"hours: {problem}")
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("roles names a role twice")
        return self


class RosterRules(WireModel):
    """A project's site rules as the hub signs them with its roster (the lane's policy)."""

    anti_passback: AntiPassbackMode = "hard"
    accept_uid_only: bool = False
    working_hours: Mapping[RosterRole, Hours] = {RosterRole.WORKER: "06:00-20:00"}
    """Roles absent have no hour limit."""
    inside_expires_at: TimeOfDay | None = None
    """When an unexited entry stops counting for anti-passback; None: the end of the working day."""
    night_work: Annotated[tuple[NightWorkWindow, ...], Field(max_length=MAX_NIGHT_WORK)] = ()

    @model_validator(mode="after")
    def _real_hours(self) -> RosterRules:
        for role, text in self.working_hours.items():
            problem = hours_problem(text)
            if problem is not None:
                raise ValueError(f"working_hours.{role.value}: {problem}")
        return self


def _without_absent_rules(value: Any, handler: SerializerFunctionWrapHandler) -> Any:
    fields = handler(value)
    if isinstance(fields, dict) and fields.get("rules", ...) is None:
        del fields["rules"]
    return fields


class RosterManifest(Signed):
    """Announces version ``version`` of a project's roster; the chunks follow, in any order."""

    kind: Literal["roster_manifest"] = "roster_manifest"
    project_id: ProjectId
    version: Version
    entries: Count
    chunk_hashes: Annotated[
        tuple[Annotated[str, Field(pattern=HEX_DIGEST_PATTERN)], ...], Field(max_length=MAX_CHUNKS)
    ]
    chunk_size_limit: Annotated[int, Field(ge=1, le=CHUNK_BYTES)] = CHUNK_BYTES
    rules: RosterRules | None = None
    """The project's site rules with this version; None: none set (the lane's bootstrap policy)."""

    @model_serializer(mode="wrap")
    def _serialise(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _without_absent_rules(self, handler)


class RosterChunk(WireModel):
    """Bytes ``index`` of a snapshot's body; trusted only through the manifest's ``chunk_hashes``."""

    kind: Literal["roster_chunk"] = "roster_chunk"
    project_id: ProjectId
    version: Version
    index: Annotated[int, Field(ge=0, lt=MAX_CHUNKS)]
    data: Annotated[str, Field(max_length=_B64_CHUNK_CHARS)]
    """Base64. Not checked against a pattern here: :meth:`raw` decodes strictly (any character
    outside the alphabet, or bad padding, is refused), and a regex over 87 KB costs as much again."""

    def raw(self) -> bytes:
        """The chunk's bytes; ValueError when ``data`` is not whole, strict base64."""
        try:
            return base64.b64decode(self.data, validate=True)
        except binascii.Error as err:
            raise ValueError(f"chunk {self.index} is not valid base64") from err


class RosterDelta(Signed):
    """From ``from_version`` to the next version: entries set or removed, watchlist changes."""

    kind: Literal["roster_delta"] = "roster_delta"
    project_id: ProjectId
    from_version: Version
    to_version: Version
    upserts: tuple[_ItemAsRow, ...] = ()
    removals: tuple[CredentialHash, ...] = ()
    watchlist_add: tuple[CredentialHash, ...] = ()
    watchlist_remove: tuple[CredentialHash, ...] = ()
    rules: RosterRules | None = None
    """The site rules of ``to_version``; None: those of ``from_version``, unchanged."""

    @model_serializer(mode="wrap")
    def _serialise(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _without_absent_rules(self, handler)

    @model_validator(mode="after")
    def _coherent(self) -> RosterDelta:
        if self.to_version != self.from_version + 1:
            raise ValueError("to_version must be from_version + 1")
        changes = (
            len(self.upserts) + len(self.removals) + len(self.watchlist_add) + len(self.watchlist_remove)
        )
        if changes > MAX_DELTA_CHANGES:
            raise ValueError(f"a delta carries at most {MAX_DELTA_CHANGES} changes, not {changes}")
        entries = [item.credential_hash for item in self.upserts] + list(self.removals)
        if len(set(entries)) != len(entries):
            raise ValueError("a credential hash is upserted or removed twice")
        listed = list(self.watchlist_add) + list(self.watchlist_remove)
        if len(set(listed)) != len(listed):
            raise ValueError("a credential hash is added to or removed from the watchlist twice")
        return self


class RosterStatus(WireModel):
    """A lane's word on its roster: the version it runs and, if it could not apply one, why."""

    kind: Literal["roster_status"] = "roster_status"
    device_id: DeviceId
    project_id: ProjectId
    applied_version: Count
    wants_snapshot: bool = False
    problem: Problem | None = None


RosterMessage = RosterManifest | RosterChunk | RosterDelta
_ROSTER_ADAPTER: TypeAdapter[RosterMessage] = TypeAdapter(
    Annotated[RosterManifest | RosterChunk | RosterDelta, Field(discriminator="kind")]
)
_STATUS_ADAPTER = TypeAdapter(RosterStatus)


_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""One encoder for every line: ``json.dumps`` with options builds a new one per call (3x slower)."""


def body_bytes(rows: Iterable[Row], watchlist: Iterable[str]) -> bytes:
    """:func:`body_lines` joined, with one JSON encoding for all the rows, not one per row (a
    new ``iterencode`` per call is most of the cost: 0.25 s against 0.04 s for 100,000 rows).

    The rows are encoded as one array and its ``],[`` separators become newlines. Rows are flat,
    so such a separator occurs once between each two rows and otherwise only inside a string;
    when the count says a name holds one, the rows are encoded one by one instead.
    """
    ordered = sorted(rows, key=lambda r: r[0] or "")
    text = _LINE.encode(ordered)
    if text.count("],[") == max(len(ordered) - 1, 0):
        entries = (text[1:-1].replace("],[", "]\n[") + "\n").encode() if ordered else b""
    else:
        entries = b"".join((_LINE.encode(row) + "\n").encode() for row in ordered)
    listed = b"".join(b'"' + h.encode("ascii") + b'"\n' for h in sorted(set(watchlist)))
    return entries + listed


def chunk_body(body: bytes, limit: int = CHUNK_BYTES) -> list[bytes]:
    """:func:`chunk_lines` over a whole body: cut at the last line end that fits, ~200 cuts for
    100,000 rows instead of a step per line."""
    pieces: list[bytes] = []
    start = 0
    while len(body) - start > limit:
        cut = body.rfind(b"\n", start, start + limit) + 1
        if cut <= start:
            size = body.find(b"\n", start) + 1 - start
            raise ValueError(f"a roster line of {size} bytes exceeds the chunk limit {limit}")
        pieces.append(body[start:cut])
        start = cut
    if start < len(body):
        pieces.append(body[start:])
    return pieces


def split_chunk(data: bytes) -> tuple[bytes, list[str]]:
    """A chunk's entry lines as one JSON array (text, not parsed), and its watchlisted hashes.

    The array is the lines joined by commas between brackets, so whoever parses it can also keep
    it as it is (the lane writes it to its roster file unchanged). Entry lines come before
    watchlist lines in a body; ValueError for a chunk that is not whole lines in that order.
    """
    if not data:
        return b"[]", []
    if not data.endswith(b"\n"):
        raise ValueError("a chunk ends in the middle of a line")
    # Raw newlines occur only between lines: JSON escapes them inside strings. Watchlist lines
    # (strings) come last, so a chunk whose last line is not one has none (and a line out of
    # order is then an entry that is not an array, which the receiver refuses).
    if data.startswith(b'"'):
        cut = 0
    elif data[data.rfind(b"\n", 0, -1) + 1] != ord('"'):
        cut = len(data)
    else:
        cut = data.find(b'\n"') + 1
    entries = b"[" + data[: cut - 1].replace(b"\n", b",") + b"]" if cut else b"[]"
    if cut == len(data):
        return entries, []
    listed = json.loads(b"[" + data[cut:-1].replace(b"\n", b",") + b"]")
    for value in listed:
        if not isinstance(value, str):
            raise ValueError(
                f"a roster line after the watchlist began is not a hash ({type(value).__name__})"
            )
    return entries, listed


def _problems(err: ValidationError) -> list[tuple[str, str]]:
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in err.errors(include_input=False)]


def decode_roster(payload: bytes | bytearray) -> RosterMessage:
    """A message from a roster topic; WireError names the field, never the value."""
    if len(payload) > MAX_ROSTER_PAYLOAD_BYTES:
        raise WireError(
            "roster", [("", f"payload of {len(payload)} bytes exceeds {MAX_ROSTER_PAYLOAD_BYTES}")]
        )
    try:
        return _ROSTER_ADAPTER.validate_json(payload)
    except ValidationError as err:
        raise WireError("roster", _problems(err)) from err


def decode_roster_status(payload: bytes | bytearray) -> RosterStatus:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise WireError(
            "RosterStatus", [("", f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")]
        )
    try:
        return _STATUS_ADAPTER.validate_json(payload)
    except ValidationError as err:
        raise WireError("RosterStatus", _problems(err)) from err


def encode_roster(message: RosterMessage | RosterStatus) -> bytes:
    return message.model_dump_json().encode()
