"""Backup and restore of the hub, and the recovery that loses nothing (issue 17, invariant 11).

:mod:`hub.backup.archive` makes and restores a backup (the database through its store's own
tools, :mod:`hub.backup.databases`; the data key and the CA with it), sealed to a recovery key
(:mod:`hub.backup.sealed`); :mod:`hub.backup.cli` is ``sitegate hub backup`` / ``restore``. A
restore leaves a marker (:mod:`hub.backup.marker`) that makes the hub ask its lanes to resend what
came after the backup (:mod:`hub.backup.resend`); lanes keep acknowledged events for a window.
"""
