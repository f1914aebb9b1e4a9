"""The hub's tables, defined once in SQLAlchemy Core for SQLite and PostgreSQL alike.

``versions/0001_initial.py`` is written by hand to match this file; a test compares the two, so
a change here without a migration fails the build.

Access events and lane events share one sequence per device (the controller's journal) but not a
table: their columns differ, and every listing reads one kind. :mod:`hub.store.sequences` counts
both tables' seqs for the watermark.

Enumerations (decision, reason, lane event type, ...) are plain strings, not database enums: the wire package
adds reasons over time and a new value must not need a schema change to be stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)

from hub.store.types import IdType, JsonType, UtcDateTime

# Named constraints and indexes, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def journal_key() -> tuple[UniqueConstraint, Index]:
    """Exactly once at the hub: (device_id, seq), the key the controller numbers its journal by.

    On SQLite a unique constraint. On PostgreSQL both journal tables are partitioned by month of
    ``wall_time`` (migration 0012, :mod:`hub.store.partitions`; the primary key there is
    (id, wall_time)), and a unique index of a partitioned table must hold its partition key, which
    (device_id, seq) cannot: a resent record's time is not part of its identity. There the key is a
    plain index, and exactly once rests on the device's watermark lock (:mod:`hub.store.journal`):
    every writer of a device holds it while it looks up and inserts that device's seqs.
    """
    return (
        UniqueConstraint("device_id", "seq").ddl_if(dialect="sqlite"),
        Index(None, "device_id", "seq").ddl_if(dialect="postgresql"),
    )


access_events = Table(
    "access_events",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("device_id", String(63), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("boot_id", String(64), nullable=False),
    Column("mono_ns", BigInteger, nullable=False),
    Column("wall_time", UtcDateTime, nullable=False),
    Column("clock_synced", Boolean, nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("lane", String(32), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("card_kind", String(32), nullable=False),
    Column("credential_hash", String(64), nullable=False),
    Column("person_id", String(64), nullable=True),
    Column("alert", Boolean, nullable=False),
    # Soft objections (comma-separated reason codes), e.g. anti-passback in soft mode.
    Column("warnings", String(255), nullable=False, server_default=""),
    Column("received_at", UtcDateTime, nullable=False),
    # wall_time as the lane's boot time line puts it (hub.store.timeline): what presence and
    # attendance are derived from. Every writer fills it (migration 0005 gave older rows their
    # wall time); nullable only because the column came after the table.
    Column("corrected_time", UtcDateTime, nullable=True),
    # Its time is not to be believed (far in the future of its receipt, or before the device was
    # enrolled): kept, but out of presence and attendance (migration 0006, issue 13).
    Column("clock_suspect", Boolean, nullable=False, server_default=false()),
    # Something the hub noticed but stored anyway, e.g. ``not_in_roster``: a grant for a person
    # the lane's roster could not have held (migration 0006).
    Column("flag", String(32), nullable=True),
    *journal_key(),
    Index(None, "project_id", "wall_time"),
    Index(None, "device_id", "wall_time"),
    Index(None, "person_id", "wall_time"),
    Index(None, "person_id", "corrected_time"),
    # The unfiltered listing and since/until-only queries walk this one, newest first.
    Index(None, "wall_time"),
)

lane_events = Table(
    "lane_events",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("device_id", String(63), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("boot_id", String(64), nullable=False),
    Column("mono_ns", BigInteger, nullable=False),
    Column("wall_time", UtcDateTime, nullable=False),
    Column("clock_synced", Boolean, nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("lane", String(32), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("type", String(32), nullable=False),
    # The access event (same device) a passage outcome refers to; None for the other types.
    Column("ref_seq", BigInteger, nullable=True),
    Column("alert", Boolean, nullable=False),
    # The operator account behind a remote open; NULL for everything else.
    Column("operator", String(64), nullable=True),
    # clock_step: how far the lane's wall clock jumped (seconds, + forward); NULL for everything else.
    Column("step_s", Float, nullable=True),
    # remote_open: the hub's command it answers (device_commands.command_id); NULL otherwise.
    Column("command_id", String(32), nullable=True),
    Column("clock_suspect", Boolean, nullable=False, server_default=false()),
    Column("received_at", UtcDateTime, nullable=False),
    # That a seq is not also an access event's is checked by the store (hub/store/journal.py)
    # under the device's watermark lock.
    *journal_key(),
    Index(None, "project_id", "wall_time"),
    Index(None, "device_id", "wall_time"),
    Index(None, "type", "wall_time"),
    # The unfiltered listing and since/until-only queries walk this one, newest first.
    Index(None, "wall_time"),
)

device_clocks = Table(
    "device_clocks",
    metadata,
    # One row per boot of a device: its latest trusted reading (hub.store.timeline), the anchor
    # its other readings are corrected from.
    Column("device_id", String(63), primary_key=True),
    Column("boot_id", String(64), primary_key=True),
    Column("anchor_seq", BigInteger, nullable=False),
    Column("anchor_wall", UtcDateTime, nullable=True),
    Column("anchor_mono_ns", BigInteger, nullable=False),
)

device_sequences = Table(
    "device_sequences",
    metadata,
    Column("device_id", String(63), primary_key=True),
    # Every seq in 1..contiguous_through is stored: what a StorageAck may promise.
    Column("contiguous_through", BigInteger, nullable=False),
    Column("highest_seen", BigInteger, nullable=False),
    # How many seqs in (contiguous_through, highest_seen] are still missing.
    Column("gap_count", BigInteger, nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("topic", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("payload_size", Integer, nullable=False),
    Index(None, "received_at"),
)

devices = Table(
    "devices",
    metadata,
    Column("device_id", String(63), primary_key=True),
    Column("last_seen_at", UtcDateTime, nullable=True),
    Column("presence_state", String(16), nullable=True),
    Column("presence_generation", BigInteger, nullable=True),
    Column("presence_at", UtcDateTime, nullable=True),
    Column("last_heartbeat", JsonType, nullable=True),
    # When the hub first enrolled the device, and when it revoked it (NULL: not revoked; a new
    # enrolment clears it). The ingest refuses a revoked device's events itself (migration 0006).
    Column("enrolled_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)

roster_versions = Table(
    "roster_versions",
    metadata,
    Column("project_id", String(64), primary_key=True),
    # The newest version minted for the project: only ever grows, across restarts and hub instances,
    # because a lane refuses any version not above the one it runs.
    Column("version", BigInteger, nullable=False),
    # sha256 of that version's canonical body: unchanged content never takes a new version.
    Column("content_sha256", String(64), nullable=False),
    Column("entries", Integer, nullable=False),
    Column("minted_at", UtcDateTime, nullable=True),
)

roster_status = Table(
    "roster_status",
    metadata,
    Column("device_id", String(63), primary_key=True),
    Column("project_id", String(64), nullable=False),
    # The lane's last word on its roster (wire.roster.RosterStatus), kept for device health.
    Column("applied_version", BigInteger, nullable=False),
    Column("wants_snapshot", Boolean, nullable=False),
    Column("problem", Text, nullable=True),
    Column("reported_at", UtcDateTime, nullable=False),
    Index(None, "project_id"),
)


device_commands = Table(
    "device_commands",
    metadata,
    # The command's own id: the lane executes an id once, the hub records it once.
    Column("command_id", String(32), primary_key=True),
    Column("device_id", String(63), nullable=False),
    Column("action", String(32), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("log_level", String(16), nullable=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("result_ok", Boolean, nullable=True),
    Column("result_detail", String(500), nullable=True),
    Column("result_at", UtcDateTime, nullable=True),
    Index(None, "device_id", "issued_at"),
)


# ---------------------------------------------------------------------------------------------
# The registry of the notice: who may be on which site, and who may see what (migration 0002).
# Ids are short strings the hub mints (``ent-…``, ``per-…``): they travel in rosters and events, so
# they must say nothing personal. Kinds and roles are plain strings, checked by hub.registry.models.
# ---------------------------------------------------------------------------------------------

districts = Table(
    "districts",
    metadata,
    Column("code", String(12), primary_key=True),
    Column("name", String(64), nullable=False),
)

enterprises = Table(
    "enterprises",
    metadata,
    Column("id", String(32), primary_key=True),
    # 企业编号: the unified social credit code; unique city-wide.
    Column("number", String(32), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    # general_contractor | professional_subcontractor | labour_subcontractor | supervision
    Column("kind", String(32), nullable=False),
    Column("district", String(12), ForeignKey("districts.code"), nullable=False),
    Column("local", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

persons = Table(
    "persons",
    metadata,
    Column("id", String(32), primary_key=True),
    # Keyed blind index of the normalised ID number: finds and de-duplicates without decrypting.
    Column("id_index", String(64), nullable=False, unique=True),
    # AES-GCM of the ID number under the hub's data key (nonce ‖ ciphertext ‖ tag).
    Column("id_cipher", LargeBinary, nullable=False),
    # What every role without the need sees: first 6 and last 4 characters.
    Column("id_masked", String(24), nullable=False),
    Column("name", String(64), nullable=False),
    Column("card_kind", String(32), nullable=False),
    Column("nation", String(32), nullable=True),
    Column("birth_date", Date, nullable=True),
    Column("enterprise_id", String(32), ForeignKey("enterprises.id"), nullable=True),
    # worker (作业人员备案, by a district bureau) | manager (管理人员信息登记, with a position)
    Column("category", String(16), nullable=False),
    Column("position", String(32), nullable=True),
    Column("registered_district", String(12), ForeignKey("districts.code"), nullable=True),
    Column("watchlisted", Boolean, nullable=False, server_default=false()),
    Column("watchlist_reason", String(200), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # When retention erased the ID number (hub.retention): id_cipher empty, id_index and id_masked
    # pseudonymous, name gone; NULL for a person still identified (migration 0012).
    Column("erased_at", UtcDateTime, nullable=True),
    Index(None, "enterprise_id"),
)

projects = Table(
    "projects",
    metadata,
    # The id lanes and rosters carry (wire.models.ProjectId).
    Column("id", String(64), primary_key=True),
    Column("permit_number", String(64), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    Column("district", String(12), ForeignKey("districts.code"), nullable=False),
    Column("address", String(200), nullable=False),
    Column("gc_enterprise_id", String(32), ForeignKey("enterprises.id"), nullable=False),
    Column("permit_issued_on", Date, nullable=True),
    # 报备: NULL until the general contractor starts the project's real-name registration.
    Column("registered_at", UtcDateTime, nullable=True),
    # 竣工: the site calendar day the project was completed; its access and lane records are kept
    # the configured period after it, then purged (hub.retention). NULL while under way (migration 0012).
    Column("completed_on", Date, nullable=True),
    # The key lanes hash credentials with (wire.credential), sealed by the data key.
    Column("site_key_cipher", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "district"),
)

project_parties = Table(
    "project_parties",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.id"), primary_key=True),
    Column("enterprise_id", String(32), ForeignKey("enterprises.id"), primary_key=True),
    # general_contractor | subcontractor | supervision
    Column("role", String(32), nullable=False),
    Column("joined_at", UtcDateTime, nullable=False),
    Index(None, "enterprise_id"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False),
    Column("person_id", String(32), ForeignKey("persons.id"), nullable=False),
    Column("enterprise_id", String(32), ForeignKey("enterprises.id"), nullable=False),
    # wire.roster.RosterRole: worker | manager | supervisor | visitor
    Column("role", String(16), nullable=False),
    Column("entry_date", Date, nullable=False),  # 进场
    Column("exit_date", Date, nullable=True),  # 退场; NULL while open-ended
    # HMAC of the ID number under the project's site key, computed once at assignment: compiling
    # a roster is then a plain read, no decryption.
    Column("credential_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # A visitor's pass window (role visitor only; both or neither): the lane admits the visitor
    # between these instants, whatever the working hours say.
    Column("pass_from", UtcDateTime, nullable=True),
    Column("pass_until", UtcDateTime, nullable=True),
    # 班组: the team the person works in (teams of the assignment's enterprise on the project).
    Column("team_id", String(32), ForeignKey("teams.id"), nullable=True),
    # 进场/离场登记 by reading the card: the office reader (a lane in registration mode) whose read
    # the registration used; NULL when the ID number was typed (the console says so).
    Column("entry_read_device", String(63), nullable=True),
    Column("exit_read_device", String(63), nullable=True),
    Index(None, "project_id", "person_id"),
    Index(None, "person_id"),
    Index(None, "project_id", "enterprise_id"),
)

teams = Table(
    "teams",
    metadata,
    # 班组 under a subcontractor (or the GC itself) on one project, with a leader (班组长).
    Column("id", String(32), primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False),
    Column("enterprise_id", String(32), ForeignKey("enterprises.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("leader_person_id", String(32), ForeignKey("persons.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("project_id", "enterprise_id", "name"),
    Index(None, "project_id"),
)

site_rules = Table(
    "site_rules",
    metadata,
    # A project's site rules (hub.site_rules), signed with its roster to the lanes; no row: never set,
    # the lanes keep their configuration's bootstrap policy.
    Column("project_id", String(64), ForeignKey("projects.id"), primary_key=True),
    # controller.core.policy.AntiPassback: off | soft | hard
    Column("anti_passback", String(8), nullable=False),
    Column("accept_uid_only", Boolean, nullable=False),
    # Site-local "HH:MM"; NULL: the end of the working day.
    Column("inside_expires_at", String(5), nullable=True),
    # {"worker": "06:00-20:00", ...}: roster role -> site-local "HH:MM-HH:MM"; absent: no limit.
    Column("working_hours", JsonType, nullable=False),
    # 夜间施工: [{"permit", "first_date", "last_date", "hours", "roles"}, ...] (wire.roster.NightWorkWindow).
    Column("night_work", JsonType, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

gates = Table(
    "gates",
    metadata,
    Column("device_id", String(63), primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False),
    Column("lane", String(32), nullable=False),
    Column("direction", String(8), nullable=True),  # in | out | both; NULL: an office reader
    Column("name", String(64), nullable=False),
    # lane (a turnstile lane) | office_reader (进场/离场登记 at the site office: reads cards, passes nobody)
    Column("kind", String(16), nullable=False, server_default="lane"),
    Index(None, "project_id"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    # argon2id, PHC string (hub.auth.passwords)
    Column("password_hash", String(255), nullable=False),
    # city | district | enterprise | gc_project | sub_project | supervision_project | operator
    Column("role", String(32), nullable=False),
    Column("district", String(12), ForeignKey("districts.code"), nullable=True),
    Column("enterprise_id", String(32), ForeignKey("enterprises.id"), nullable=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=True),
    Column("display_name", String(128), nullable=False),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("created_at", UtcDateTime, nullable=False),
    # The console's language for this account (zh-CN | en); NULL: from Accept-Language, else zh-CN.
    Column("locale", String(8), nullable=True),
)

auth_tokens = Table(
    "auth_tokens",
    metadata,
    # sha256 of the bearer token: a leaked table does not log anyone in.
    Column("token_sha256", String(64), primary_key=True),
    Column("account_id", IdType, ForeignKey("accounts.id"), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "account_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("account_id", IdType, nullable=True),  # NULL: a failed login for an unknown name
    Column("username", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(128), nullable=True),
    # What changed, never an ID number (hub.auth.audit masks).
    Column("detail", JsonType, nullable=True),
    Index(None, "at"),
    Index(None, "account_id", "at"),
)

inspections = Table(
    "inspections",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False),
    Column("account_id", IdType, ForeignKey("accounts.id"), nullable=False),
    Column("inspected_on", Date, nullable=False),
    Column("findings", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # routine (日常巡查) | special (专项检查) | unannounced (飞行检查); supervision's are routine.
    Column("kind", String(16), nullable=False, server_default="routine"),
    # The notice's checklist: {item: {"ok": bool, "note": str}} over 工作网络, 报备, 进离场读卡, 考勤,
    # 管理人员到岗, 用工状况 (hub.workflows decides the items); NULL for inspections made before it.
    Column("checklist", JsonType, nullable=True),
    Index(None, "project_id", "inspected_on"),
)

inspection_photos = Table(
    "inspection_photos",
    metadata,
    # The photo itself is a file outside the database (named by its sha256); this is its record.
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("inspection_id", IdType, ForeignKey("inspections.id"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content_type", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("uploaded_by", IdType, ForeignKey("accounts.id"), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Index(None, "inspection_id"),
)

# 通报: a numbered document of an authority (通报表扬 commendation / 通报批评 criticism).
bulletins = Table(
    "bulletins",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    # The document number as printed, e.g. 杭建实名通〔2026〕3号; unique city-wide.
    Column("number", String(64), nullable=False, unique=True),
    # commendation | criticism
    Column("kind", String(16), nullable=False),
    # The issuing authority: a district bureau (its code) or the city station (NULL).
    Column("district", String(12), ForeignKey("districts.code"), nullable=True),
    Column("title", String(128), nullable=False),
    Column("body", Text, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("issuer_account_id", IdType, ForeignKey("accounts.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "district", "issued_on"),
)

bulletin_parties = Table(
    "bulletin_parties",
    metadata,
    Column("bulletin_id", IdType, ForeignKey("bulletins.id"), primary_key=True),
    # project | enterprise | person
    Column("party_kind", String(16), primary_key=True),
    Column("party_id", String(64), primary_key=True),
    Index(None, "party_kind", "party_id"),
)

# The notice's sanction for refusing real-name management: no 标准化样板工地 award or related honours
# for the period, for a project, an enterprise or a manager.
sanctions = Table(
    "sanctions",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    # project | enterprise | person
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("bulletin_id", IdType, ForeignKey("bulletins.id"), nullable=True),
    Column("district", String(12), ForeignKey("districts.code"), nullable=True),
    Column("recorded_by", IdType, ForeignKey("accounts.id"), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index(None, "subject_kind", "subject_id"),
)

# The notice's annex: each district bureau's contacts (分管领导, 部门领导, 日常联系人), printed on reports.
district_contacts = Table(
    "district_contacts",
    metadata,
    Column("district", String(12), ForeignKey("districts.code"), primary_key=True),
    # leader_in_charge (分管领导) | department_head (部门领导) | daily_contact (日常联系人)
    Column("role", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("title", String(64), nullable=True),
    Column("phone", String(32), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", IdType, ForeignKey("accounts.id"), nullable=False),
)

# Alerts that leave the building: one row per (alert, target), retried with backoff until delivered.
alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    # What was raised, stable across reads (kind + what it is about + when), so it is sent once.
    Column("alert_key", String(200), nullable=False),
    # webhook | email
    Column("channel", String(16), nullable=False),
    Column("target", String(200), nullable=False),
    Column("payload", JsonType, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("last_error", String(500), nullable=True),
    UniqueConstraint("alert_key", "channel", "target"),
    Index(None, "delivered_at", "next_attempt_at"),
)

# Derived as events arrive (hub.derive), in the ingest's transaction: who is on site now and each
# person's day. Rebuildable from access_events, so never the only copy of anything.
presence = Table(
    "presence",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("person_id", String(32), primary_key=True),
    Column("on_site", Boolean, nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("device_id", String(63), nullable=False),
    # The wall time of the event this row reflects: an older event arriving late changes nothing.
    Column("event_time", UtcDateTime, nullable=False),
    Index(None, "project_id", "on_site"),
)

attendance = Table(
    "attendance",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("person_id", String(32), primary_key=True),
    # The site's local calendar day (Asia/Shanghai): what a regulator means by "a day".
    Column("day", Date, primary_key=True),
    Column("first_in", UtcDateTime, nullable=True),
    Column("last_out", UtcDateTime, nullable=True),
    Column("seconds_on_site", Integer, nullable=False, server_default="0"),
    Column("passages", Integer, nullable=False, server_default="0"),
    Index(None, "project_id", "day"),
    Index(None, "person_id", "day"),
)


# ---------------------------------------------------------------------------------------------
# The regulators' workflows (migration 0003): rectification orders with their history, credit
# deductions, and the lanes' heartbeat history for the console's charts. Statuses and target kinds
# are plain strings, checked by hub.workflows.models. ``district`` on an order or a deduction is the
# bureau that oversees it (scope is one indexed comparison, whoever issued it).
# ---------------------------------------------------------------------------------------------

rectification_orders = Table(
    "rectification_orders",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("district", String(12), ForeignKey("districts.code"), nullable=False),
    # Exactly one of the two: the project or the enterprise ordered to rectify (责令限期整改).
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=True),
    Column("enterprise_id", String(32), ForeignKey("enterprises.id"), nullable=True),
    Column("subject", String(128), nullable=False),
    Column("requirements", Text, nullable=False),
    # The last day to rectify (site calendar): overdue is computed on read, so no timer is needed.
    Column("deadline", Date, nullable=False),
    # open | responded | closed
    Column("status", String(16), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("issuer_account_id", IdType, ForeignKey("accounts.id"), nullable=False),
    Column("issued_by", String(64), nullable=False),
    Column("responded_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    # The inspection the order was issued from, when it was (整改 from a 检查 in one step).
    Column("inspection_id", IdType, ForeignKey("inspections.id"), nullable=True),
    Index(None, "district", "id"),
    Index(None, "project_id"),
    Index(None, "enterprise_id"),
    Index(None, "status", "deadline"),
)

order_actions = Table(
    "order_actions",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("order_id", IdType, ForeignKey("rectification_orders.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("account_id", IdType, ForeignKey("accounts.id"), nullable=False),
    Column("username", String(64), nullable=False),
    # issue | respond | accept | reject
    Column("action", String(16), nullable=False),
    Column("note", Text, nullable=True),
    Index(None, "order_id", "id"),
)

credit_deductions = Table(
    "credit_deductions",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("district", String(12), ForeignKey("districts.code"), nullable=False),
    # An enterprise, or a project leader (a manager, on the project named) 信用扣分.
    Column("enterprise_id", String(32), ForeignKey("enterprises.id"), nullable=True),
    Column("person_id", String(32), ForeignKey("persons.id"), nullable=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=True),
    Column("points", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("order_id", IdType, ForeignKey("rectification_orders.id"), nullable=True),
    Column("deducted_at", UtcDateTime, nullable=False),
    Column("account_id", IdType, ForeignKey("accounts.id"), nullable=False),
    Column("deducted_by", String(64), nullable=False),
    Index(None, "district", "id"),
    Index(None, "enterprise_id"),
    Index(None, "person_id"),
    Index(None, "project_id"),
    Index(None, "order_id"),
)

heartbeat_history = Table(
    "heartbeat_history",
    metadata,
    # One row per device per minute (the latest heartbeat of that minute), pruned as it is written:
    # bounded whatever a lane's heartbeat interval (hub.store.heartbeats).
    Column("device_id", String(63), primary_key=True),
    Column("minute", UtcDateTime, primary_key=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("journal_backlog", BigInteger, nullable=False),
    Column("roster_version", BigInteger, nullable=False),
    Column("clock_synced", Boolean, nullable=False),
    # received_at - sent_at: how far the lane's clock (plus transit) is from the hub's.
    Column("clock_skew_s", Float, nullable=False),
    Column("readers_ok", Boolean, nullable=False),
    Column("cpu_temp_c", Float, nullable=True),
    Column("free_disk_mb", Float, nullable=False),
)


# ---------------------------------------------------------------------------------------------
# The national and provincial worker platforms (migration 0011, issue 19): a project's settings,
# and what the uploader (hub.platform) has registered and uploaded there. States are plain strings
# (hub.platform.states): queued | sending | sent | accepted | failed. An event's upload is keyed by
# the access event's own identity (device_id, seq), not a foreign key: access_events may be
# partitioned, and the key is what makes an event go up once.
# ---------------------------------------------------------------------------------------------

platform_settings = Table(
    "platform_settings",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.id"), primary_key=True),
    # national (全国建筑工人管理服务信息平台) | provincial (the province's platform, same protocol)
    Column("variant", String(16), nullable=False),
    Column("endpoint", String(300), nullable=False),
    # The code the platform assigned to the project (projectCode), not the hub's project id.
    Column("project_code", String(64), nullable=False),
    Column("appid", String(64), nullable=False),
    # AES-GCM of the appsecret under the hub's data key, like an ID number; never shown back.
    Column("appsecret_cipher", LargeBinary, nullable=False),
    # Attendance from this site day on is uploaded (the platform takes no history before it).
    Column("upload_from", Date, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


def _upload_progress() -> list[Column[Any]]:
    """Where a row's request to the platform stands: the columns teams, workers and events share."""
    return [
        Column("state", String(16), nullable=False),
        Column("request_serial_code", String(64), nullable=True),
        Column("message", String(500), nullable=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("next_attempt_at", UtcDateTime, nullable=True),
        Column("updated_at", UtcDateTime, nullable=False),
    ]


platform_teams = Table(
    "platform_teams",
    metadata,
    # 班组 registered with Team.Add: the platform's teamSysNo once accepted.
    Column("team_id", String(32), ForeignKey("teams.id"), primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False),
    Column("team_sys_no", String(64), nullable=True),
    *_upload_progress(),
    Index(None, "project_id", "state"),
)

platform_workers = Table(
    "platform_workers",
    metadata,
    # A person registered on the project with ProjectWorker.Add, in the team named.
    Column("project_id", String(64), ForeignKey("projects.id"), primary_key=True),
    Column("person_id", String(32), ForeignKey("persons.id"), primary_key=True),
    Column("team_id", String(32), ForeignKey("teams.id"), nullable=False),
    *_upload_progress(),
    Index(None, "project_id", "state"),
)

platform_uploads = Table(
    "platform_uploads",
    metadata,
    # One row per access event taken for the platform (WorkerAttendance.Add).
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("device_id", String(63), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("person_id", String(32), nullable=False),
    Column("team_id", String(32), nullable=False),
    Column("event_time", UtcDateTime, nullable=False),
    *_upload_progress(),
    UniqueConstraint("device_id", "seq"),
    Index(None, "project_id", "state", "next_attempt_at"),
    Index(None, "request_serial_code"),
)

platform_status = Table(
    "platform_status",
    metadata,
    # The uploader's last word per project, for the console and the API.
    Column("project_id", String(64), ForeignKey("projects.id"), primary_key=True),
    Column("last_success_at", UtcDateTime, nullable=True),
    Column("last_attempt_at", UtcDateTime, nullable=True),
    Column("last_message", String(500), nullable=True),
    Column("requests", BigInteger, nullable=False, server_default="0"),
)

hub_instances = Table(
    "hub_instances",
    metadata,
    # Each running hub instance's lease (hub.instances.lease): renewed every few seconds, deleted at
    # a clean stop; live while expires_at is ahead. Projects are owned by the live instances.
    Column("instance_id", String(128), primary_key=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("renewed_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
