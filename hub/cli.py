"""``sitegate hub``: run the hub (store, ingest, API) until SIGTERM or SIGINT;
``sitegate hub account create|list ...`` makes and lists accounts (:mod:`hub.cli_accounts`);
``sitegate hub backup|restore ...`` backs the hub up and restores it (:mod:`hub.backup.cli`);
``sitegate hub project complete`` records a project's completion date (:mod:`hub.retention.cli`).

Settings come from defaults, then ``--config FILE`` (TOML, the keys of :class:`HubConfig`), then
flags. Logs go to stderr; the URL the API listens on goes to stdout once it is listening, so a
supervisor or a test can read it (``--http-port 0`` picks a free port).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hub.backup.running import hub_running
from hub.config import HubConfig, load_config
from hub.errors import HubError
from sitegate.clitext import plain_error
from wire.clock import Clock, SystemClock

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger("hub")

_FLAGS: list[tuple[str, type, str]] = [
    ("database_url", str, "SQLAlchemy async URL (default sqlite+aiosqlite:///var/hub.db, relative to cwd)"),
    ("mqtt_host", str, "broker host (default 127.0.0.1)"),
    ("mqtt_port", int, "broker port (default 1883)"),
    ("mqtt_client_id", str, "MQTT client id; unique per instance (default from host name and pid)"),
    ("share_group", str, "MQTT v5 shared-subscription group the instances split the stream in"),
    ("http_host", str, "API listen address (default 127.0.0.1)"),
    ("http_port", int, "API listen port; 0 picks a free one (default 8080)"),
    ("batch_max", int, "most events stored in one transaction (default 2000)"),
    ("batch_window_s", float, "longest wait to fill a batch, seconds (default 0.02)"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sitegate hub",
        description="运行 SiteGate 区域 hub / Run the SiteGate regional hub.",
        epilog="'sitegate hub account create --help': make an account (the first one: --role city); "
        "'sitegate hub account list': the accounts; 'sitegate hub backup --help', "
        "'sitegate hub restore --help': back up and restore.",
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML file with hub settings")
    for name, kind, text in _FLAGS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, help=text)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def main(argv: list[str] | None = None, *, clock: Clock | None = None) -> int:
    """``clock``: the wall clock the hub runs on; the system's, said here once for the whole
    process (a test may hand in another)."""
    clock = clock or SystemClock()
    if argv and argv[0] == "account":
        from hub.cli_accounts import main as account

        return account(argv[1:], clock=clock)
    if argv and argv[:2] == ["project", "complete"]:
        from hub.retention.cli import main as complete

        return complete(argv[2:], clock=clock)
    if argv and argv[0] in ("backup", "restore"):
        from hub.backup.cli import backup_main, restore_main

        return (backup_main if argv[0] == "backup" else restore_main)(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = load_config(args.config, {name: getattr(args, name) for name, _, _ in _FLAGS})
    except HubError as err:
        print(f"sitegate hub: 设置有误 / bad settings: {plain_error(err)}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(config, clock))
    except (HubError, OSError) as err:
        log.error("hub stopped: %s", plain_error(err))
        return 1
    return 0


async def start(app: web.Application, config: HubConfig) -> web.AppRunner:
    """``app`` listening on the configured address, with the ``[http]`` limits on its server
    (:mod:`hub.api.limits`): the header timeout and the connection caps. The caller cleans the
    runner up; when this raises (the address taken), it has cleaned up what it had set up (the
    app's startup opened the store and the ingest), as the caller has no runner to clean."""
    from aiohttp import web  # here, not at the top: 'sitegate hub backup' and the rest need no web app

    from hub.api import limits

    cap = limits.ConnectionCap(
        limits.connection_limit(config.http.max_connections),
        config.http.max_connections_per_client,
        config.http.trusted_proxies,
    )
    app[limits.CONNECTION_CAP] = cap
    runner = web.AppRunner(app, handle_signals=False, **limits.server_options(config.http))
    await runner.setup()
    try:
        assert runner.server is not None  # setup made it
        cap.install(runner.server)
        await web.TCPSite(runner, config.http_host, config.http_port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


async def serve(config: HubConfig, clock: Clock) -> None:
    """Serve until SIGTERM or SIGINT, then stop the ingest and close the store before returning."""
    app = _built_app(config, clock)
    runner: web.AppRunner | None = None
    with hub_running(config.state_dir()):  # what 'sitegate hub restore' refuses to restore under
        try:
            runner = await start(app, config)
            url = _url(runner)
            print(f"hub listening on {url}", flush=True)
            await _until_signalled()
            log.info("stopping")
        finally:
            if runner is not None:
                await runner.cleanup()


def _built_app(config: HubConfig, clock: Clock) -> web.Application:
    """The web app, its modules imported with the cyclic collector paused, then frozen out of its reach.

    What is loaded here (~120,000 tracked objects) lives as long as the process, yet every full
    collection walks it: ~0.08 CPU-s each, one or two during the imports, and the collections of
    the interpreter's exit took ~0.45 CPU-s more, a third of a short-lived hub's CPU (the tests start
    ~100). Frozen (``gc.freeze``), those objects are skipped by every later collection, at exit too;
    what the hub allocates from then on is collected as before. The imports' own cyclic garbage is
    frozen with them, never freed: ~0.7 MiB (tracemalloc), cheaper than a collection to free it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        from hub.app import create_app

        return create_app(config, clock=clock)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


def _url(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
