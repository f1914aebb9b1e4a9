"""Site-wide anti-passback, the hub's part: the lanes of a site share who is inside (invariant 10).

Each lane decides locally from its own memory of who is inside; this package makes that memory
the site's. After the ingest commits a batch (:meth:`hub.ingest.Ingest` calls
:meth:`SiteRelay.stored`), every passage in it (a grant marked ``passage`` at a lane without a
rotation sensor, a ``passage_confirmed`` naming the same person as the grant it refers to) is
relayed, signed with the roster key the lanes pin, to every *other* lane placed at the same
project's gates, on that lane's own down channel (``sitegate/v1/down/<device>/site``, which the
broker's ACL lets only that lane read). The site is the registry's word (the recording device's
gate placement), never the payload's; a passage the wrong way for the gate, or a confirmation
that does not match its grant, is relayed nowhere. The relay runs off the ingest's path: sorting
a batch is a loop over it in memory, and the rest is a background round per wake-up, one relay
per sibling lane, one query for the confirmations' grants it does not remember.

Lanes learn how much to trust their memory from signed syncs (siblings and when the hub last
heard from each), sent when a lane needs one (:mod:`hub.site.schedule`: its siblings changed, one
it judges silent was heard again, its word would otherwise grow too old; a lane alone on its site
none but the answers to its requests), and catch up after every (re)connection: a lane asks,
the hub sends each person's latest passage at the site over the last day from the stored record,
then a sync that answers the request. Nothing here keeps state another hub instance would need:
the placements and recent grants are caches of the database, what each lane was last told only
spares it syncs (a new instance tells every lane once), and any instance can answer any lane.
"""

from hub.site.gates import SiteMap
from hub.site.relay import RelayCounters, SiteRelay
from hub.site.schedule import SyncTiming

__all__ = ["RelayCounters", "SiteMap", "SiteRelay", "SyncTiming"]
