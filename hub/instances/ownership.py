"""Which hub instance owns a project: rendezvous (highest-random-weight) hashing.

Several hub processes on one database and one broker each compiled, signed and sent every
project's start-up roster and ran the site syncs of every lane (issue 16: two hubs cost 9.0 CPU-s
per 1,000 entries against one hub's 6.1). Each project has one owner, and only the owner does
those: every instance reads the same live set (:mod:`hub.instances.lease`) and computes the same
owner, without talking to the others. A project's owner is the live instance whose
``weight(instance, project)`` is highest, so when an instance joins it takes only the projects it
now weighs most for, and when one leaves only its projects move, each to its runner-up.

Pure: ids in, owners out. An instance alone owns everything without hashing anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field


def weight(instance_id: str, project_id: str) -> int:
    """The instance's stable random weight for the project: the same in every process and on
    every run (blake2b, not Python's salted ``hash``)."""
    digest = hashlib.blake2b(f"{instance_id}\x00{project_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(project_id: str, instances: Iterable[str]) -> str:
    """The instance of ``instances`` (not empty) that owns the project; ties (never seen with 64
    bits) go to the greater id, so every instance agrees all the same."""
    return max(instances, key=lambda instance: (weight(instance, project_id), instance))


@dataclass(frozen=True, slots=True)
class Ownership:
    """What one instance (``me``) owns while ``instances`` (``me`` among them) are live."""

    me: str
    instances: frozenset[str]
    _owned: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)
    """Each project's answer once computed: the site relay asks for every lane at every tick."""

    @classmethod
    def alone(cls, me: str) -> Ownership:
        return cls(me, frozenset({me}))

    def __post_init__(self) -> None:
        if self.me not in self.instances:
            raise ValueError("an instance's ownership counts itself among the live instances")

    @property
    def is_alone(self) -> bool:
        return len(self.instances) == 1

    def owns(self, project_id: str) -> bool:
        if self.is_alone:
            return True
        owned = self._owned.get(project_id)
        if owned is None:
            owned = self._owned[project_id] = owner(project_id, self.instances) == self.me
        return owned

    def gained(self, before: Ownership, project_ids: Iterable[str]) -> list[str]:
        """Of ``project_ids``, those owned now and not ``before``, in their order."""
        return [p for p in project_ids if self.owns(p) and not before.owns(p)]
