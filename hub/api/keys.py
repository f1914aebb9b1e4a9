"""Typed application keys: what the app factory and its cleanup contexts put on the app."""

from __future__ import annotations

from aiohttp import web

from hub.config import HubConfig
from hub.devices.command_desk import CommandDesk
from hub.ingest import Ingest
from hub.registry import RegistryDesk
from hub.retention.housekeeping import Housekeeping
from hub.rosters import RosterPublisher
from hub.store import Store
from wire.clock import Clock

CONFIG = web.AppKey("config", HubConfig)
STORE = web.AppKey("store", Store)
INGEST = web.AppKey("ingest", Ingest)
COMMANDS = web.AppKey("commands", CommandDesk)
ROSTERS = web.AppKey("rosters", RosterPublisher)
REGISTRY = web.AppKey("registry", RegistryDesk)
HOUSEKEEPING = web.AppKey("housekeeping", Housekeeping)
"""The record's periodic housekeeping (hub.retention): partitions ahead, the purge; its counts."""
CLOCK = web.AppKey("clock", Clock)
"""The one wall clock every view and long-lived part of the hub reads: a test pins it
(``create_app(config, clock=FakeClock(...))``) and every "now" and "today" follows."""
