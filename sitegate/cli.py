"""``sitegate``: one command, a subcommand per part (controller, hub, demo).

Subcommands import their part lazily, so a controller image without the hub's dependencies
still runs ``sitegate controller``.
"""

from __future__ import annotations

import sys

USAGE = """usage: sitegate {controller,provision,hub,demo} [options]

  controller   run a turnstile lane (sitegate controller --help)
  provision    enrol this Pi as a lane and set it up (sitegate provision --help)
  hub          run the regional hub (sitegate hub --help)
  demo         run the whole system on this machine (sitegate demo --help)
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
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
        print(f"sitegate: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    return run(rest)


if __name__ == "__main__":
    sys.exit(main())
