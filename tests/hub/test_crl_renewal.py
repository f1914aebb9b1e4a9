"""A hub with a CA re-issues the broker's CRL at start (and daily): a broker whose CRL has passed
its next-update date refuses every client, so the hub must never let it run out."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from cryptography import x509

from hub.app import create_app
from hub.config import HubConfig
from provisioning.ca import CertificateAuthority
from sitegate.netutil import free_port


async def test_the_hub_reissues_the_broker_crl_at_start(tmp_path: Path) -> None:
    CertificateAuthority.create(tmp_path / "ca")
    (tmp_path / "broker").mkdir()
    crl_file = tmp_path / "broker" / "ca.crl"
    config = HubConfig(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        mqtt_port=free_port(),
        broker_files_dir=tmp_path / "broker",
    )
    async with TestClient(TestServer(create_app(config))):
        deadline = time.monotonic() + 10
        while not crl_file.exists():  # written by the renewal task, in a thread, at start
            assert time.monotonic() < deadline, "no CRL written at start"
            await asyncio.sleep(0.02)
        crl = x509.load_pem_x509_crl(crl_file.read_bytes())
    next_update = crl.next_update_utc
    assert next_update is not None
    # Judged against the CRL's own issue time, not the wall clock: a month's validity from issue.
    assert next_update - crl.last_update_utc > dt.timedelta(days=29)


async def test_a_hub_without_a_ca_writes_no_crl(tmp_path: Path) -> None:
    (tmp_path / "broker").mkdir()
    config = HubConfig(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        mqtt_port=free_port(),
        broker_files_dir=tmp_path / "broker",
    )
    async with TestClient(TestServer(create_app(config))):
        pass
    assert not (tmp_path / "broker" / "ca.crl").exists()
