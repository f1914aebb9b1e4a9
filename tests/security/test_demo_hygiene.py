"""Issue 13, item 10: the demo (``make demo ARGS=--serve``) gives an attacker nothing the
production hub would not: no cheap password hashes, no world-writable broker log, a broker that
checks revocation, no bearer token on the terminal."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import argon2
from sqlalchemy import select

from hub.auth.passwords import STANDARD, Argon2Cost, needs_rehash
from hub.auth.principal import Role
from hub.store import Store
from hub.store.schema import accounts
from provisioning.ca import CertificateAuthority
from sitegate.demo import LANES, _serve_notes, demo_broker
from sitegate.demo_registry import populate
from sitegate.demo_script import build_shift
from sitegate.mosquitto import Mosquitto
from tests.support.accounts import create_account
from tests.support.clock import site_time

LAID = site_time(2026, 11, 25, 7, 0, 0)


async def test_seeded_accounts_have_production_hashes_from_the_start(
    standard_argon2: Argon2Cost, database_url: str, tmp_path: Path
) -> None:
    """A cheap hash until first login made seeded accounts answer faster: a timing oracle."""
    async with await Store.open(database_url) as store:
        await create_account(store, role=Role.CITY, username="city-duty")
    shift = build_shift(7, LAID)
    populated = await populate(
        database_url, tmp_path / "hub-data.key", "city-duty", shift, list(LANES.values()),
        seed=7, people=5, today=LAID.date(),
    )  # fmt: skip
    async with await Store.open(database_url) as store, store.read("test") as conn:
        hashes = dict((await conn.execute(select(accounts.c.username, accounts.c.password_hash))).all())
    seeded = set(populated.accounts)
    assert seeded and seeded <= set(hashes)
    assert [name for name in seeded if needs_rehash(hashes[name])] == []
    costs = {(p.time_cost, p.memory_cost) for p in map(argon2.extract_parameters, map(hashes.get, seeded))}
    assert costs == {(STANDARD.time_cost, STANDARD.memory_kib)}


def test_the_broker_log_is_not_world_writable() -> None:
    with Mosquitto() as broker:
        mode = stat.S_IMODE(broker.log_path.stat().st_mode)
        assert not mode & stat.S_IWOTH, oct(mode)
        assert broker.log_path.read_text() is not None  # still the broker's log, readable here


def test_the_demo_broker_checks_revocation(tmp_path: Path) -> None:
    ca = CertificateAuthority.create(tmp_path / "ca")
    broker = demo_broker(ca)
    try:
        assert broker.tls is not None and broker.tls.crl_file is not None
        assert broker.tls.crl_file.exists()
        assert "crlfile" in broker.tls.listener_text()
    finally:
        broker.close()


def test_the_demo_prints_no_bearer_token(tmp_path: Path) -> None:
    with Mosquitto() as broker:
        notes = _serve_notes("http://127.0.0.1:8080", broker, tmp_path, {"gc-1": "gc_project"})
    assert "Authorization: Bearer" not in notes.replace("'Authorization: Bearer <token>'", "")
    assert os.fspath(tmp_path / "account-password") in notes  # where the password is, not a token
