"""The oversight reads: what regulators and project departments ask of the record.

:class:`~hub.oversight.oversight.Oversight`, built with the store and the asking account, is the
one way in: headcount, managers on duty and attendance over the tables :mod:`hub.derive` keeps,
registration statistics counted from the registry (:mod:`hub.oversight.statistics`), and the
access record as CSV a page at a time (:mod:`hub.oversight.export`). Every read ANDs the
account's scope (:mod:`hub.auth.scope`) into its SQL; the statement pieces it shares with the
workflows are in :mod:`hub.oversight.queries`.
"""
