"""bench/_common.py ``run_dir``: a bench's processes stop before its files go."""

from __future__ import annotations

import time

from bench._common import run_dir
from sitegate.netutil import spawn, stop_group


def test_the_processes_a_bench_left_running_stop_before_its_files_are_removed() -> None:
    # A SIGTERM unwinds through run_dir before the bench's lifetime sweeps its leftovers: a child
    # still writing there (a simulator's lanes) would make the directory again behind rmtree.
    with run_dir("sitegate-test-run-dir-", keep=False) as path:
        writer = spawn(
            ["sh", "-c", f'while :; do mkdir -p "{path}/lane" && : > "{path}/lane/log"; sleep 0.01; done']
        )
        deadline = time.monotonic() + 10
        while not (path / "lane" / "log").exists():
            assert time.monotonic() < deadline, "the writer never wrote"
            time.sleep(0.01)
    assert writer.poll() is not None, "the writer outlived the run's directory"
    time.sleep(0.1)
    assert not path.exists()


def test_what_ran_before_the_bench_is_left_running() -> None:
    # A bench run inside a test process (this module, the benches' own tests) shares it with the
    # session's PostgreSQL and brokers: stopping "every group this process spawned" killed a
    # worker's database server mid-suite and failed the ~90 tests after it on that worker.
    before = spawn(["sleep", "30"])
    try:
        with run_dir("sitegate-test-run-dir-", keep=False):
            inside = spawn(["sleep", "30"])
        assert inside.poll() is not None, "what the bench started outlived it"
        assert before.poll() is None, "run_dir stopped a process started before it"
    finally:
        stop_group(before)
