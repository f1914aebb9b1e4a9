"""Hub instances on one database: each one's lease, and which instance owns which project (issue 16).

:mod:`hub.instances.ownership` is the pure part (rendezvous hashing of project ids over the live
instances' ids); :mod:`hub.instances.lease` writes and reads the leases and tells its listeners
when the live set changes.
"""

from hub.instances.lease import Lease, Membership
from hub.instances.ownership import Ownership, owner

__all__ = ["Lease", "Membership", "Ownership", "owner"]
