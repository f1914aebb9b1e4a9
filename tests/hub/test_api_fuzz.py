"""Fuzz the running hub against its own OpenAPI document (schemathesis, on hypothesis).

The hub runs as a process (its real HTTP stack, middlewares and database) beside a real broker;
the fuzzer logs in as the city account, which may call every operation, and sends what the document
allows and what it does not. Whatever comes, the hub must answer with a status the document lists,
the content type it promises and never a 500; every error must be the JSON error shape.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup, as_reported_failure
from schemathesis.core.result import Ok
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.hypothesis.reporting import ignore_hypothesis_output
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.python._constants.orchestrator import make_constants_value_source
from schemathesis.schemas import APIOperation
from schemathesis.transport.requests import ManagedCookiesSession

from hub.api.openapi import document
from hub.api.routes import ROUTES
from hub.auth.principal import Role
from hub.store import Store
from sitegate.hubproc import HubLauncher, HubProcess
from sitegate.mosquitto import Mosquitto
from tests.support.accounts import create_account
from tests.support.postgres import run_in_thread

# One xdist worker runs the whole module, on one hub: spread over make test's 4 workers (20-24 tests
# each), every worker started a broker, a hub (~1 CPU-s to start) and the city account of its own.
pytestmark = [pytest.mark.broker, pytest.mark.timeout(300), pytest.mark.xdist_group("api-fuzz")]

PASSWORD = "fuzzing-password-0001"
EXAMPLES = int(os.environ.get("SITEGATE_FUZZ_EXAMPLES", "12"))
MAX_REQUEST_LINE = 8190  # aiohttp's default limit on the request line
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


async def _city_account(database_url: str) -> None:
    async with await Store.open(database_url) as store:
        await create_account(store, role=Role.CITY, username="fuzz-city", password=PASSWORD)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[HubProcess]:
    """The hub on a copy of the session's migrated database, the city account written in-process
    (``sitegate hub account create``, a Python process of its own that migrates a database from
    nothing, is tests/hub/test_cli_accounts.py's)."""
    workdir = tmp_path_factory.mktemp("fuzz")
    database = workdir / "hub.db"
    shutil.copyfile(sqlite_template, database)
    run_in_thread(_city_account(f"sqlite+aiosqlite:///{database}"))
    with (
        Mosquitto() as broker,
        HubLauncher(database, broker.host, broker.port, log=workdir / "hub.log") as running,
    ):
        yield running


@pytest.fixture(scope="module")
def token(hub: HubProcess) -> str:
    answer = requests.post(
        f"{hub.base_url}/api/v1/auth/login", json={"username": "fuzz-city", "password": PASSWORD}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    """One HTTP session for every case: its connections kept alive, not a TCP connection opened,
    accepted and closed for each request on both sides (a third of the fuzzer's own CPU and much of
    the hub's). Cookies are dropped after each request, as a fresh session's would be."""
    with ManagedCookiesSession() as shared:
        # Loopback takes no proxy, .netrc or CA bundle from the environment: not two scans of
        # os.environ for each request (requests' merge_environment_settings).
        shared.trust_env = False
        yield shared


# The document the hub serves (tests/hub/test_openapi.py holds the two equal); loaded here rather
# than fetched, because schemathesis' lazy fixture loader does not run under pytest 9.
schema = schemathesis.openapi.from_dict(document(ROUTES)).exclude(path="/api/v1/auth/logout")
OPERATIONS: dict[str, APIOperation[Any, Any, Any, Any]] = {}
for _result in schema.get_all_operations():
    if not isinstance(_result, Ok):
        raise _result.err()  # the document is the hub's own: an operation it cannot describe is a bug there
    OPERATIONS[_result.ok().label] = _result.ok()
FEEDBACK = FeedbackSources(constants_value_source=make_constants_value_source(schema))


# 12 examples an operation (25 before): 62 operations at 25 took 95 s of a worker in every make test
# (the largest module but one). Fewer examples a run is a shallower search each run; the seed differs
# run to run, so the search still widens over many runs. A deep run by hand:
#   SITEGATE_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/hub/test_api_fuzz.py -n 2
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def exchange(case: schemathesis.Case[Any], hub: HubProcess, token: str, session: requests.Session) -> None:
    """One case: sent to the hub, its answer held to the document."""
    headers = {"Authorization": f"Bearer {token}"}
    response = case.call(base_url=hub.base_url, session=session, headers=headers, timeout=30)
    request_line = f"{response.request.method} {response.request.path_url} HTTP/1.1"
    if len(request_line) > MAX_REQUEST_LINE:
        # Refused by aiohttp's HTTP parser before any handler runs (plain text, like every server's
        # 400/414 for an oversized request line): the hub's own code never saw it.
        assert response.status_code in (400, 414), response.status_code
        return
    case.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize("label", list(OPERATIONS))
def test_the_hub_keeps_to_its_document(
    label: str, hub: HubProcess, token: str, session: requests.Session
) -> None:
    """Every phase of schemathesis' own pytest test for the operation (the document's examples,
    the coverage phase's cases, then ``EXAMPLES`` fuzzed ones), built here, in the process that
    runs it. ``schema.parametrize()`` built all 86 at collection (the coverage phase's ~4,000
    cases: ~3 CPU-s) in every xdist worker and every ``--collect-only``, though one worker runs
    them. The build is the one schemathesis' plugin makes at collection and its lazy loader
    (schemathesis/pytest/lazy.py) at run time: ``build_operation_test``, a private name, so a
    schemathesis upgrade that moves it fails this module's import, not silently."""
    fuzz = build_operation_test(
        config=schema.config,
        operation=OPERATIONS[label],
        test_func=exchange,
        given_kwargs={},
        feedback=FEEDBACK,
    )
    try:
        with ignore_hypothesis_output():
            fuzz(hub=hub, token=token, session=session)
    except FailureGroup as failures:  # as schemathesis' plugin reports them: one entry a failed check
        raise as_reported_failure(failures) from None


def test_errors_have_the_documented_shape(hub: HubProcess, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for method, path, body in (
        ("GET", "/api/v1/access-events?limit=0", None),
        ("GET", "/api/v1/no-such-thing", None),
        ("POST", "/api/v1/persons", {"id_number": "1"}),
        ("POST", "/api/v1/enterprises", "not an object"),
    ):
        answer = requests.request(method, hub.base_url + path, json=body, headers=headers, timeout=10)
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
        error = answer.json()["error"]
        assert error["code"] and error["message"], (path, error)


def test_the_fuzzer_left_the_hub_running(hub: HubProcess) -> None:
    assert hub.proc.poll() is None, "the hub exited during fuzzing"
