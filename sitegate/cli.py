"""``sitegate``: one command, a subcommand per part (controller, hub, demo).

Subcommands import their part lazily, so a controller image without the hub's dependencies
still runs ``sitegate controller``. A failure nobody caught on the way ends here as a message,
never as a traceback naming Python's exceptions (the traceback goes to the log at DEBUG).
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import PackageNotFoundError, version

from sitegate.clitext import plain_error

log = logging.getLogger("sitegate")

USAGE = """usage: sitegate {controller,provision,hub,demo} [options]
       sitegate --version

  controller   运行闸机通道 / run a turnstile lane (sitegate controller --help)
  provision    登记并设置本机为通道 / enrol this Pi as a lane and set it up (sitegate provision --help)
  hub          运行区域 hub / run the regional hub (sitegate hub --help)
               账号 / accounts: sitegate hub account create|list --help
  demo         在本机运行整个系统 / run the whole system on this machine (sitegate demo --help)
"""


def package_version() -> str:
    try:
        return version("sitegate")
    except PackageNotFoundError:  # a checkout that was never installed
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    if args[0] in ("-V", "--version"):
        print(f"sitegate {package_version()}")
        return 0
    command, rest = args[0], args[1:]
    if command == "controller":
        from controller.cli import main as run
    elif command == "provision":
        from provisioning.cli import main as run
    elif command == "hub":
        from hub.cli import main as run
    elif command == "demo":
        from sitegate.demo import main as run
    else:
        print(f"sitegate: 没有这个命令 / unknown command: {command}\n\n{USAGE}", file=sys.stderr)
        return 2
    try:
        return run(rest)
    except Exception as err:
        log.debug("sitegate %s failed", command, exc_info=True)
        print(
            f"sitegate {command}: 意外失败 / failed unexpectedly: {plain_error(err)}\n"
            "请报告此问题（--log-level DEBUG 的日志有详情）/ please report this (the log at --log-level DEBUG"
            " has the details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
