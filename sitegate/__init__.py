"""The ``sitegate`` command and the one-machine demo that composes every part.

This package is the only one allowed to import both ``controller`` and ``hub``: it is the
operator-facing entry point, not a part of either. One module goes the other way:
:mod:`sitegate.tasks` (stopping asyncio tasks for certain) is shared by the lane and the hub, and
imports neither.
"""
