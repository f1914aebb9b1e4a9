"""The oversight reads: what regulators and project departments ask of the record.

Headcount, managers on duty and attendance read the tables :mod:`hub.derive` keeps
(:mod:`hub.oversight.queries`); registration statistics count the registry
(:mod:`hub.oversight.statistics`); the access record leaves as CSV a page at a time
(:mod:`hub.oversight.export`). Every read ANDs the asking account's scope into its SQL.
"""
