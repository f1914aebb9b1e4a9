"""Every benchmark still runs, on a small size: a bench that rots is found by ``make test``,
not on the day someone needs its numbers. Goals are the benches' business, not asserted here
(timed assertions in tests are noise); the JSON shape and the correctness counters are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def run_bench(name: str, *args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / name), *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    last = result.stdout.strip().splitlines()[-1]
    return json.loads(last)


def test_decision_bench_reports_its_keys() -> None:
    report = run_bench(
        "decision.py",
        "--roster-size",
        "2000",
        "--decide-swipes",
        "500",
        "--service-swipes",
        "100",
        "--boots",
        "1",
        "--smoke",
    )
    for key in (
        "roster_size",
        "decide_p50_us",
        "decide_p99_us",
        "swipe_to_relay_p50_ms",
        "swipe_to_relay_p99_ms",
        "boot_ready_s",
        "rss_mb",
    ):
        assert isinstance(report[key], int | float), key
    assert report["roster_size"] == 2000


@pytest.mark.timeout(240)
def test_powercut_bench_loses_nothing() -> None:
    report = run_bench("powercut.py", "--trials", "20")
    assert report["trials"] == 20
    assert report["lost_events"] == 0
    assert report["corrupt_rosters"] == 0


@pytest.mark.broker
@pytest.mark.timeout(240)
def test_roster_sync_bench_reports_its_keys() -> None:
    report = run_bench("roster_sync.py", "--entries", "3000", "--smoke")
    for key in ("sync_s", "compile_s", "raw_transfer_s", "ratio", "end_to_end_s", "end_to_end_ratio"):
        assert isinstance(report[key], int | float), key
    assert report["entries"] == report["lane_entries"] == 3000


STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.broker
@pytest.mark.parametrize("store", STORES)
def test_drain_bench_loses_nothing(store: str) -> None:
    report = run_bench("drain.py", "--events", "2000", "--store", store)
    assert report["store"] == store
    assert report["backlog"] == 2000
    assert report["lost"] == 0
    assert report["duplicates"] == 0
    assert isinstance(report["drain_events_per_s"], int)


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_api_bench_reports_its_keys() -> None:
    report = run_bench("api.py", "--events", "20000", "--projects", "5", "--samples", "200")
    assert report["events"] == 20000
    for key in ("page_p99_ms", "headcount_p99_ms", "attendance_p99_ms", "load_s"):
        assert isinstance(report[key], int | float), key
    assert report["presence_rows"] == 5 * 100


@pytest.mark.broker
@pytest.mark.parametrize("store", STORES)
def test_ingest_bench_loses_nothing(store: str) -> None:
    report = run_bench(
        "ingest.py", "--store", store, "--events", "600", "--devices", "3", "--window", "10", "--smoke"
    )
    assert report["store"] == store
    assert report["events"] == 600
    for key in ("raw_msgs_per_s", "hub_events_per_s", "ratio", "publish_msgs_per_s"):
        assert isinstance(report[key], int | float), key
    assert report["acked_all"] is True
    assert report["lost"] == 0
    assert report["duplicates"] == 0
    assert report["unexpected"] == 0


@pytest.mark.broker
@pytest.mark.parametrize("store", STORES)
def test_ingest_failover_bench_loses_nothing(store: str) -> None:
    report = run_bench(
        "ingest_failover.py",
        *("--store", store, "--events", "1000", "--devices", "3"),
        *("--kill-after", "300", "--resend-after", "1"),
    )
    assert report["store"] == store
    assert report["events"] == 1000
    assert report["acked_when_killed"] >= 300
    assert report["acked_all"] is True
    assert report["lost"] == 0
    assert report["duplicates"] == 0
    assert report["unexpected"] == 0


@pytest.mark.broker
def test_propagation_bench_reports_its_keys() -> None:
    report = run_bench("propagation.py", "--samples", "3", "--people", "6", "--smoke")
    assert set(report) >= {"samples", "p50_ms", "p99_ms"}
    assert report["samples"] == 3
    assert report["roster_entries"] == 6  # every registered person ended on both lanes' roster
