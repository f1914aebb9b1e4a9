"""The regulators' workflows of the notice, on top of the registry and the access record.

- rectification orders (责令限期整改): a district bureau or the city station orders a project or an
  enterprise to put something right by a deadline; the recipient responds; the issuer accepts or
  sends it back. Overdue is computed on read from the deadline (no timer, no state a second hub
  instance would need), and an overdue order is escalated: flagged to the city station.
- credit deductions (信用扣分) against an enterprise or a project leader, with reason and order;
- monthly summaries per district and per project (按月汇总), as records and CSV;
- attendance in the national worker platform's ``WorkerAttendance`` upload shape;
- anomaly alerts computed from the data: managers not in by a set time, gates offline too long,
  watchlist hits, overdue orders;
- the lanes' heartbeat history for device charts.

Every write is one transaction with its audit line; every read ANDs the account's scope, built
from :mod:`hub.auth.scope`, chosen inside each domain object from the principal it is built with.
"""
