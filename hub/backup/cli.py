"""``sitegate hub backup`` and ``sitegate hub restore`` (and ``sitegate hub backup keygen``).

``keygen`` makes the recovery key pair once, on a machine that is not the hub: the hub keeps the
public half and seals every backup to it; the private half restores, and stays with whoever may
restore. ``backup`` takes the hub's settings (``--config``, ``--database-url``) as the hub does,
runs while the hub runs, and writes ``hub-<UTC time>.sgbackup`` into ``--out`` (a directory; or a
file name), keeping the newest ``--keep`` there. ``restore`` puts a backup in place of a stopped
hub's data (``--replace`` to replace data that is there) and leaves the marker that makes the
restored hub ask its lanes for what came after the backup. Messages are Chinese first, then
English, and name no Python exception.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from hub.backup.archive import restore_backup, take_backup
from hub.backup.sealed import BackupError, load_private_key, load_public_key, make_recovery_keys
from hub.config import load_config
from hub.errors import HubError
from sitegate.clitext import plain_error

SUFFIX = ".sgbackup"


def _settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE", help="the hub's TOML settings")
    parser.add_argument("--database-url", help="the hub's database (default: from --config or the default)")


def backup_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sitegate hub backup",
        description="备份 hub（数据库、数据密钥、CA），以恢复公钥加密 / Back up the hub (database, data key, "
        "CA), sealed to a recovery public key. 'sitegate hub backup keygen --help': make the key pair.",
    )
    parser.add_argument(
        "--recovery-public-key", type=Path, required=True, metavar="FILE", help="the recovery public key"
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="PATH", help=f"a directory (hub-<time>{SUFFIX}) or a file"
    )
    parser.add_argument(
        "--keep", type=int, default=0, metavar="N", help="keep the newest N backups in --out (0: all)"
    )
    _settings(parser)
    return parser


def keygen_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sitegate hub backup keygen",
        description="生成恢复密钥对 / Make the recovery key pair: the public half goes to the hub, the "
        "private half (it restores every backup) stays off the hub.",
    )
    parser.add_argument("--private-key", type=Path, required=True, metavar="FILE")
    parser.add_argument("--public-key", type=Path, required=True, metavar="FILE")
    return parser


def restore_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sitegate hub restore",
        description="从备份恢复已停止的 hub / Restore a stopped hub from a backup; at its next start it "
        "asks every lane to resend what came after the backup.",
    )
    parser.add_argument("--recovery-key", type=Path, required=True, metavar="FILE", help="the private half")
    parser.add_argument("--from", dest="archive", type=Path, required=True, metavar="FILE", help="the backup")
    parser.add_argument(
        "--replace", action="store_true", help="replace the hub data that is there (it is lost)"
    )
    _settings(parser)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | int:
    try:
        return parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2


def _failed(prog: str, what: str, err: BaseException) -> int:
    print(f"{prog}: {what}: {plain_error(err)}", file=sys.stderr)
    return 1


def backup_main(argv: list[str]) -> int:
    if argv and argv[0] == "keygen":
        return keygen_main(argv[1:])
    args = _parse(backup_parser(), argv)
    if isinstance(args, int):
        return args
    try:
        config = load_config(args.config, {"database_url": args.database_url})
        recipient = load_public_key(args.recovery_public_key)
        out = _target(args.out)
        manifest = asyncio.run(take_backup(config, recipient, out))
        pruned = _prune(out.parent, args.keep) if args.keep > 0 else []
    except (HubError, OSError) as err:
        return _failed("sitegate hub backup", "备份失败 / backup failed", err)
    print(f"backup {out} ({manifest.store}, schema {manifest.schema_revision}); {len(pruned)} older removed")
    return 0


def keygen_main(argv: list[str]) -> int:
    args = _parse(keygen_parser(), argv)
    if isinstance(args, int):
        return args
    try:
        print_ = make_recovery_keys(args.private_key, args.public_key)
    except (HubError, OSError) as err:
        return _failed("sitegate hub backup keygen", "无法生成密钥 / cannot make the keys", err)
    print(f"recovery key {print_}: the hub needs {args.public_key}; keep {args.private_key} off the hub")
    return 0


def restore_main(argv: list[str]) -> int:
    args = _parse(restore_parser(), argv)
    if isinstance(args, int):
        return args
    try:
        config = load_config(args.config, {"database_url": args.database_url})
        key = load_private_key(args.recovery_key)
        restored = asyncio.run(restore_backup(config, key, args.archive, replace=args.replace))
    except (HubError, OSError) as err:
        return _failed("sitegate hub restore", "恢复失败 / restore failed", err)
    manifest = restored.manifest
    print(
        f"restored the backup of {manifest.taken_at.isoformat(timespec='seconds')} "
        f"(schema {manifest.schema_revision}); restore epoch {restored.marker.epoch}: start the hub, "
        "it asks every lane to resend what came after the backup"
    )
    return 0


def _target(out: Path) -> Path:
    if out.is_dir():
        return out / f"hub-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}{SUFFIX}"
    if out.suffix != SUFFIX:
        raise BackupError(f"--out {out}: a directory, or a file name ending in {SUFFIX}")
    return out


def _prune(directory: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups in ``directory`` (by name: the time is in it)."""
    backups = sorted(directory.glob(f"hub-*{SUFFIX}"))
    old = backups[:-keep]
    for path in old:
        path.unlink(missing_ok=True)
    return old
