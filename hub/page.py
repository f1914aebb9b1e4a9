"""One page of a keyset-paged listing, whatever it lists: registry records, orders, events.

The registry, the workflows and the event listings each page their own way (their cursors differ),
but what a page is does not: the items and the cursor of the next page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page; ``next_cursor`` is None on the last page."""

    items: list[T]
    next_cursor: str | None
