"""The attack suite's hub: the registry tests' app on a real store, with their world of accounts."""

from tests.hub.registry.conftest import client, http_world  # noqa: F401 - fixtures
