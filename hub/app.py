"""The app factory: routes, the error and authentication middlewares, and the lifetimes of the
store and the ingest.

The store opens (and migrates) before the ingest starts, and closes after it stops: aiohttp runs
``cleanup_ctx`` entries in order on startup and in reverse on cleanup.

Time is an input: the app's one clock (``app[CLOCK]``) is what the views, the store, the registry,
the ingest, the command desk and the roster publisher read, so a test that pins it decides which
instant and which day the whole hub lives in.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from typing import Protocol

from aiohttp import web

from hub.api import enrolment, limits, workflows
from hub.api.auth_middleware import auth_middleware
from hub.api.card_reads import CARD_READS
from hub.api.error_responses import error_middleware
from hub.api.keys import CLOCK, COMMANDS, CONFIG, HOUSEKEEPING, INGEST, REGISTRY, ROSTERS, STORE
from hub.api.routes import setup_routes
from hub.auth.login import has_accounts
from hub.background import BackgroundTasks
from hub.backup.gap import GapIngest
from hub.backup.resend import ask_once_connected
from hub.changes import CHANGES, Changes
from hub.config import HubConfig
from hub.devices.command_desk import CommandDesk
from hub.downlink import Downlink
from hub.ingest import ChannelHandler, Ingest
from hub.instances import Membership, Ownership
from hub.instances.lease import Listener
from hub.paho_tables import install as share_paho_property_tables
from hub.platform.uploader import Uploader, keep_uploading
from hub.registration_reads import CardReadIngest, CardReads
from hub.registry import IdVault, RegistryDesk, load_data_key
from hub.retention.housekeeping import Housekeeping
from hub.rosters import RosterLedger, RosterPublisher, load_signing_key
from hub.rosters.registry_source import RegistrySource
from hub.site import SiteRelay, SyncTiming
from hub.store import JournalRecord, Store
from hub.workflows.alerts import AlertSettings
from hub.workflows.deliveries import Deliveries, keep_delivering
from provisioning.registrar import BrokerNotTold
from wire.clock import Clock, SystemClock
from wire.topics import Channel

log = logging.getLogger(__name__)

SITE = web.AppKey("site", SiteRelay)
"""The site relay: passages between a site's lanes, and their syncs (hub.site)."""


def create_app(
    config: HubConfig,
    *,
    clock: Clock | None = None,
    handlers: Mapping[Channel, ChannelHandler] | None = None,
) -> web.Application:
    """``clock``: the wall clock the hub reads (the system's when not given). ``handlers``: more
    up channels for the ingest to hand over (e.g. roster status to the roster publisher); command
    results are always taken by the app's command desk."""
    # The ingest receives every event through paho: the app installs the receive path it runs on, so
    # a test that builds the app receives exactly as the hub in production does.
    share_paho_property_tables()
    app = web.Application(middlewares=[error_middleware, auth_middleware])
    app[CONFIG] = config
    app[CLOCK] = clock or SystemClock()
    app[CARD_READS] = CardReads(clock=app[CLOCK])  # in memory only: personal data for minutes
    app[CHANGES] = Changes()  # the live screens' "something was stored" (hub.console.views_screen)
    limits.install(app)
    setup_routes(app)
    app.on_startup.append(workflows.open_vault)
    app.cleanup_ctx.append(_store_lifetime)
    app.cleanup_ctx.append(_crl_renewal)
    app.cleanup_ctx.append(_alert_deliveries)
    app.cleanup_ctx.append(_platform_uploads)
    app.cleanup_ctx.append(_housekeeping)
    app.on_startup.append(_warn_without_accounts)
    app.on_shutdown.append(_end_streams)
    app.cleanup_ctx.append(functools.partial(_ingest_lifetime, handlers=dict(handlers or {})))
    return app


async def _end_streams(app: web.Application) -> None:
    """The requests that wait (a screen's event stream, a registration form's long poll for a card
    read) end as the hub stops, instead of holding the stop for their 25 s (Changes.close says why)."""
    app[CHANGES].close()
    app[CARD_READS].close()


async def _store_lifetime(app: web.Application) -> AsyncIterator[None]:
    config, clock = app[CONFIG], app[CLOCK]
    vault = IdVault(load_data_key(config.data_key_path()))
    store = await Store.open(config.database_url, clock=clock)
    app[STORE] = store
    app[REGISTRY] = RegistryDesk(store, vault, clock=clock)
    # Enrolment is on when the hub's state directory holds a CA (``sitegate`` makes one for the demo).
    desk = enrolment.desk_from_config(config, store, vault.open_site_key, clock=clock.wall)
    if desk is not None:
        enrolment.configure(app, desk)
    try:
        yield
    finally:
        await store.close()


CRL_RENEWAL_S = 24 * 3600
"""The broker's CRL is valid 30 days and a broker with an expired one refuses every client: the hub
re-issues it at start and daily, well inside that."""


async def _crl_renewal(app: web.Application) -> AsyncIterator[None]:
    desk = app.get(enrolment.DESK)
    if desk is None:
        yield
        return

    async def renew() -> None:
        while True:
            try:
                await asyncio.to_thread(desk.registrar.publish_revocations)
                log.info("broker CRL and ACL re-issued")
            except BrokerNotTold as err:  # a full disk or a vanished directory must not stop the hub
                log.error("could not re-issue the broker's CRL: %s", err)
            await asyncio.sleep(CRL_RENEWAL_S)

    task = asyncio.create_task(renew(), name="crl-renewal")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _alert_deliveries(app: web.Application) -> AsyncIterator[None]:
    """Alerts to the configured webhooks and e-mail (hub.workflows.deliveries), when there are any."""
    config = app[CONFIG]
    if not config.deliveries.any:
        yield
        return
    tasks = BackgroundTasks("alert deliveries", log)
    alert_settings = AlertSettings(
        manager_due_by=config.alert_manager_due_by,
        gate_offline_after=timedelta(seconds=config.alert_gate_offline_after_s),
        watchlist_window=timedelta(hours=config.alert_watchlist_window_h),
    )
    async with Deliveries(app[STORE], config.deliveries, alert_settings, clock=app[CLOCK]) as deliveries:
        tasks.spawn(keep_delivering(deliveries, config.deliveries.interval_s), name="alert-deliveries")
        try:
            yield
        finally:
            await tasks.stop()


async def _housekeeping(app: web.Application) -> AsyncIterator[None]:
    """The record's months ahead and its purge past the retention period (hub.retention), at start
    and every ``[retention] interval_s``."""
    keeper = Housekeeping(app[STORE], app[CONFIG].retention, clock=app[CLOCK])
    app[HOUSEKEEPING] = keeper
    tasks = BackgroundTasks("retention housekeeping", log)
    tasks.spawn(keeper.keep(), name="retention-housekeeping")
    try:
        yield
    finally:
        await tasks.stop()


async def _platform_uploads(app: web.Application) -> AsyncIterator[None]:
    """Attendance to the national and provincial worker platforms (hub.platform.uploader), for the
    projects that have settings; ``[platform] enabled = false`` leaves it to another instance."""
    config = app[CONFIG]
    if not config.platform.enabled:
        yield
        return
    tasks = BackgroundTasks("platform uploads", log)
    vault = IdVault(load_data_key(config.data_key_path()))
    async with Uploader(app[STORE], vault, config.platform, clock=app[CLOCK]) as uploader:
        tasks.spawn(keep_uploading(uploader, config.platform), name="platform-uploads")
        try:
            yield
        finally:
            await tasks.stop()


async def _warn_without_accounts(app: web.Application) -> None:
    if not await has_accounts(app[STORE]):
        log.warning(
            "no account exists yet, so nobody can use the API: create the first one with "
            "'sitegate hub account create --role city --username NAME --password-file FILE' "
            "(same --config / --database-url as the hub)"
        )


class ProjectsWithLanes(Protocol):
    async def projects_with_lanes(self) -> list[str]: ...


def taking_over(source: ProjectsWithLanes, publisher: RosterPublisher) -> Listener:
    """What an instance does when the live instances change (hub.instances): for the projects it
    owns since, its start-up step (their rosters at the broker are mostly current already: the
    publisher sends only to lanes not known to run the newest version). What it no longer owns
    needs nothing: its start-up step skips them, and the site relay asks at every tick."""

    async def taken_over(before: Ownership, after: Ownership) -> None:
        gained = after.gained(before, await source.projects_with_lanes())
        if gained:
            log.info("%d projects taken over from another hub instance", len(gained))
            await publisher.request_publish_all(gained)

    return taken_over


async def _ingest_lifetime(
    app: web.Application, *, handlers: dict[Channel, ChannelHandler]
) -> AsyncIterator[None]:
    config, clock = app[CONFIG], app[CLOCK]

    async def command_result(topic: str, payload: bytes) -> str | None:
        return await app[COMMANDS].on_result(topic, payload)

    async def roster_status(topic: str, payload: bytes) -> str | None:
        return await app[ROSTERS].on_status_message(topic, payload)

    async def site_request(topic: str, payload: bytes) -> str | None:
        return await app[SITE].on_request_message(topic, payload)

    async def journal_gap(topic: str, payload: bytes) -> str | None:
        return await gaps(topic, payload)

    def stored(records: Sequence[JournalRecord]) -> None:
        app[SITE].stored(records)
        app[CHANGES].changed()

    ingest = Ingest(
        app[STORE],
        host=config.mqtt_host,
        port=config.mqtt_port,
        client_id=config.mqtt_client_id,
        share_group=config.share_group,
        batch_max=config.batch_max,
        batch_window=config.batch_window_s,
        tls_context=config.mqtt_tls_context(),
        handlers={
            Channel.COMMAND_RESULT: command_result,
            Channel.ROSTER_STATUS: roster_status,
            Channel.SITE_REQUEST: site_request,
            Channel.CARD_READ: CardReadIngest(app[STORE], app[CARD_READS]),
            Channel.JOURNAL_GAP: journal_gap,
            **handlers,
        },
        clock=clock,
        on_stored=stored,
        time_bounds=config.time_bounds(),
    )
    # Down to the lanes, over the ingest's broker link (one connection for both ways).
    downlink = Downlink(ingest.link)
    # A lane's events a restored hub asked for that it no longer keeps (hub.backup.gap).
    gaps = GapIngest(app[STORE], downlink, config.state_dir(), clock=clock)
    app[COMMANDS] = CommandDesk(app[STORE], downlink, clock=clock)
    # Several instances on one PostgreSQL: each project's start-up roster and its lanes' site syncs
    # are its owner's only (hub.instances); an instance alone (and every SQLite hub) owns all.
    membership = Membership.on(
        app[STORE], config.mqtt_client_id, clock=clock, ttl_s=config.instance_lease_ttl_s
    )
    source = RegistrySource(app[STORE], clock=clock.wall)
    signing_key = load_signing_key(config.roster_key_path())
    ledger = RosterLedger(app[STORE].engine, clock=clock)
    publisher = RosterPublisher(source, downlink, signing_key, ledger, clock=clock, owns=membership.owns)
    app[ROSTERS] = publisher
    # Passages shared between a site's lanes, signed with the key they pin for rosters (hub.site).
    timing = SyncTiming(silence_s=config.site_sibling_silence_s, longest_s=config.site_sync_s)
    site = SiteRelay(app[STORE], downlink, signing_key, clock=clock, timing=timing, owns=membership.owns)
    app[SITE] = site
    membership.subscribe(taking_over(source, publisher))
    # Every committed registry change that touches a roster is pushed to that project's lanes.
    unsubscribe = app[REGISTRY].subscribe(publisher.request_publish)
    unsubscribe_sites = app[REGISTRY].subscribe(site.sites)  # gates moved: read the placements again
    # A hub restored from a backup asks its lanes for what the backup lacks (hub.backup.resend).
    restored = BackgroundTasks("resend requests", log)
    async with membership, ingest, publisher, site:
        app[INGEST] = ingest
        restored.spawn(
            ask_once_connected(
                app[STORE], downlink, config.state_dir(), clock=clock, connected=ingest.wait_connected
            ),
            name="resend-requests",
        )
        # A change committed while no hub was running (or whose push a crash cut short) still
        # reaches its lanes: every project with lanes is brought up to date at start.
        await publisher.request_publish_all(await source.projects_with_lanes())
        try:
            yield
        finally:
            await membership.leave()  # the others take this instance's projects while it stops
            await restored.stop()
            unsubscribe()
            unsubscribe_sites()
