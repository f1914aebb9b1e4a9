"""Compiled console templates kept between hub processes.

Compiling the console's templates costs each hub process ~0.35 CPU-s the first time its pages are
rendered (41 templates, measured here); loading them compiled costs ~0.01. With this cache a
restarted hub, a second hub process on the same host, and every hub the test suite starts render
their first pages without compiling. Jinja keys each entry on the template's name and path and
checks the source's checksum and the Python version when loading, so an edited or upgraded
template is compiled afresh, never served stale.

Where: Jinja's own per-user directory under the system's temporary directory (made 0700 and
refused unless it is the user's own). A cache that cannot be written is a slower first page, never
a failed one: the write's error is logged and the page is served.
"""

from __future__ import annotations

import functools
import logging

from jinja2 import BytecodeCache, FileSystemBytecodeCache
from jinja2.bccache import Bucket

log = logging.getLogger(__name__)


class TemplateCache(FileSystemBytecodeCache):
    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as err:
            log.warning("compiled template not kept in %s: %s", self.directory, err)


def template_cache(directory: str | None = None) -> BytecodeCache | None:
    """The cache in ``directory`` (default: Jinja's per-user one); ``None`` where that directory
    cannot be made or is not safe to use (another user's, a symlink): templates are then compiled
    in each process, as without a cache."""
    try:
        return TemplateCache(directory)
    except (OSError, RuntimeError) as err:
        log.warning("compiled templates not kept between processes: %s", err)
        return None


@functools.cache
def shared_template_cache() -> BytecodeCache | None:
    """The process's one cache, for every language's environment: a template compiles to the same
    code in each (its words are looked up when it renders)."""
    return template_cache()
