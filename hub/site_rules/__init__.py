"""A project's site rules (issue 14): working hours per roster role, the anti-passback mode, when
an unexited entry stops counting, whether a card UID alone is accepted, and night-work permits
(夜间施工). Set per project at the hub (``PUT /api/v1/projects/{id}/site-rules``) and signed to the
lanes with the roster (:mod:`hub.rosters`): no lane's configuration file is edited by hand.

:mod:`hub.site_rules.model` is the pure model (what a write takes, checked before any I/O, errors
in Chinese first); :mod:`hub.site_rules.rules` reads and writes them for one account, and reads
them unscoped for the roster compiler.
"""

from hub.site_rules.model import DEFAULT_RULES, NightWorkIn, SiteRules, SiteRulesIn, problems_of

# hub.site_rules.rules is not imported here: it is a part of hub.registry.Registry, which imports it.
__all__ = ["DEFAULT_RULES", "NightWorkIn", "SiteRules", "SiteRulesIn", "problems_of"]
