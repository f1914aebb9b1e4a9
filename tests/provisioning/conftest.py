"""The enrolment site (a hub, a TLS broker, an emulated ID module) for every provisioning test module,
not only the one that defines it."""

from tests.provisioning.test_provision_end_to_end import emulator, site  # noqa: F401 - fixtures
