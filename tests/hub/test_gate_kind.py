"""The office reader is the registry's (issue 14): a gate of kind ``office_reader`` has no
direction, is enrolled in ``mode = "registration"`` (the enrolment answer carries it and
``sitegate provision`` writes it), is the only kind whose card reads the hub takes, and the only
kind whose access events it refuses as a contradiction."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from controller.config import parse_config
from hub.auth.principal import Role
from hub.devices.enrolment import Enrolments
from hub.events.attribution import Placement, Refusal, attribute
from hub.registration_reads import CardReadIngest, CardReads
from hub.registry.models import GateDirection, GateIn, GateKind
from hub.site.gates import SiteMap
from hub.store import Store
from provisioning.ca import CertificateAuthority, generate_key, make_csr
from provisioning.device import LaneChoices, config_text
from provisioning.enrolment import (
    BrokerAddress,
    EnrolledGate,
    EnrolmentBundle,
    EnrolmentRequest,
    LaneSettings,
    answer_json,
    bundle_for,
)
from provisioning.registrar import BrokerFiles, Registrar
from tests.hub.factories import make_event, make_lane_event
from tests.hub.test_registration_reads import NOW, a_read
from tests.support.accounts import create_account
from tests.support.clock import FakeClock
from tests.support.placed import make_office_readers, place_at_gates
from tests.support.registry_rows import GC
from wire.codec import encode
from wire.models import Direction
from wire.topics import Channel, topic_for

OFFICE = Placement(device_id="lane-t01", project_id="proj-1", lane="A1", direction=None, kind="office_reader")


def test_a_lane_needs_its_direction_and_an_office_reader_has_none() -> None:
    lane = GateIn(device_id="lane-a1", lane="A1", direction=GateDirection.IN, name="东门")
    assert (lane.kind, lane.direction) == (GateKind.LANE, GateDirection.IN)
    office = GateIn(device_id="office-1", lane="O1", kind=GateKind.OFFICE_READER, name="项目部")
    assert office.direction is None
    with pytest.raises(ValidationError) as lane_without:
        GateIn(device_id="lane-a1", lane="A1", name="东门")
    with pytest.raises(ValidationError) as office_with:
        GateIn(device_id="office-1", lane="O1", kind="office_reader", direction="in", name="项目部")
    for refused, words in ((lane_without, "须选择方向"), (office_with, "没有方向")):
        [error] = refused.value.errors()
        assert (error["loc"], error["type"]) == (("direction",), "gate_direction_kind")
        assert words in error["msg"]
    with pytest.raises(ValidationError) as both:  # refused up front, whatever the kind
        GateIn(device_id="lane-a1", lane="A1", direction="both", name="东门")
    assert both.value.errors()[0]["type"] == "gate_direction_both"


@pytest.mark.parametrize(
    "record",
    [make_event(1, direction=Direction.IN), make_lane_event(2)],
    ids=["access_event", "lane_event"],
)
def test_an_office_reader_records_no_passage(record: object) -> None:
    refused = attribute(record, OFFICE)  # type: ignore[arg-type]
    assert isinstance(refused, Refusal) and refused.contradiction
    assert refused.reason.startswith("kind in the payload contradicts the registry")


def _bundle(gate: EnrolledGate) -> EnrolmentBundle:
    return bundle_for(
        gate,
        certificate_pem=b"-----BEGIN CERTIFICATE-----\n",
        ca_pem=b"-----BEGIN CERTIFICATE-----\n",
        broker=BrokerAddress(host="mqtt.hub.example", port=8883),
        roster_public_key="A" * 43 + "=",
        site_key=bytes(32),
    )


def test_the_enrolment_answer_carries_the_mode_and_provision_writes_it() -> None:
    office = _bundle(EnrolledGate("office-1", "P-0042", "O1", None, "registration"))
    assert answer_json(office)["lane"] == {  # type: ignore[index]
        "device_id": "office-1",
        "project_id": "P-0042",
        "lane": "O1",
        "direction": None,
        "mode": "registration",
    }
    assert EnrolmentBundle.model_validate(answer_json(office)) == office
    config = parse_config(config_text(office, LaneChoices(id_module="/dev/ttyUSB0")), "controller.toml")
    assert config.mode == "registration"

    lane = _bundle(EnrolledGate("lane-a1", "P-0042", "A1", Direction.OUT))
    assert "mode" not in answer_json(lane)["lane"]  # type: ignore[operator]  # as older lanes read it
    assert parse_config(config_text(lane, LaneChoices()), "controller.toml").mode == "access"
    with pytest.raises(ValidationError, match="needs its direction"):
        LaneSettings(device_id="lane-a1", project_id="P-0042", lane="A1", direction=None)


async def test_the_hub_takes_card_reads_from_office_readers_only(store: Store) -> None:
    await place_at_gates(store, [("office-1", "P1", "O1", "in"), ("lane-1", "P1", "A1", "in")])
    await make_office_readers(store, ["office-1"])
    reads = CardReads(clock=FakeClock(NOW))
    handler = CardReadIngest(store, reads)
    for device, read_id in (("office-1", "1" * 32), ("lane-1", "2" * 32)):
        assert await handler(topic_for(device, Channel.CARD_READ), encode(a_read(device, read_id))) is None
    assert [held.read.device_id for held in reads.since("P1")] == ["office-1"]
    assert reads.counters.refused == 1


async def test_an_office_readers_token_enrols_it_in_registration_mode(store: Store, tmp_path: Path) -> None:
    await place_at_gates(store, [("office-1", "P1", "O1", "in")])
    await make_office_readers(store, ["office-1"])
    gc = await create_account(
        store, role=Role.GC_PROJECT, username="gc-p1", enterprise_id=GC, project_id="P1"
    )
    registrar = Registrar(
        CertificateAuthority.create(tmp_path / "ca"),
        broker=BrokerAddress(host="broker.example", port=8883),
        roster_public_key="A" * 43 + "=",
        broker_files=BrokerFiles(crl_file=tmp_path / "ca.crl", acl_file=tmp_path / "acl"),
    )
    issued = await Enrolments(store, gc).issue_token(
        registrar, "office-1", lifetime=timedelta(hours=1), now=NOW
    )
    assert (issued.record.gate.direction, issued.record.gate.mode) == (None, "registration")
    # the CA's ledger keeps the mode (a file, read again for the enrolment)
    request = EnrolmentRequest(token=issued.token, csr=make_csr("office-1", generate_key()).decode())
    bundle = registrar.enrol(request, site_key=bytes(32), now=NOW + timedelta(minutes=1))
    assert (bundle.lane.mode, bundle.lane.direction, bundle.lane.lane) == ("registration", None, "O1")


async def test_an_office_reader_is_no_turnstiles_sibling(store: Store) -> None:
    """Site-wide anti-passback: an office reader is sent no site sync, and its silence (switched
    off at night) does not soften the turnstiles' hard anti-passback."""
    await place_at_gates(
        store, [("lane-1", "P1", "A1", "in"), ("lane-2", "P1", "A2", "out"), ("office-1", "P1", "O1", "in")]
    )
    await make_office_readers(store, ["office-1"])
    site = await SiteMap(store, ttl_s=0).current()
    assert site.siblings("lane-1") == ("lane-2",)
    assert site.placement("office-1") is None
