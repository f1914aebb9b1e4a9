"""``python -m hub``: the same as ``sitegate hub``."""

from hub.cli import main

raise SystemExit(main())
