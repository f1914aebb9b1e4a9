"""Power-cut bench: SIGKILL a lane at random points during journal appends and roster swaps.

    .venv/bin/python bench/powercut.py [--trials 300] [--seed 0] [--dir PATH] [--deadline-s S]

Every trial forks a lane process that keeps appending events (real ``Journal.append``), pulsing a
relay on gpiozero mock pins and swapping roster versions (real ``save_roster``), and kills it with
SIGKILL after a random 5-80 ms. The same journal and roster carry over from trial to trial, as a
lane's do across reboots. After each kill the journal must open gapless with every pulsed event
in it, and the roster must load as one complete version no older than the last confirmed save.
Progress goes to stderr; the last stdout line is one JSON object (``trials``, ``lost_events``,
``corrupt_rosters`` and extras). Exit status 1 if anything was lost or torn, the roster needed its ``.prev``
fallback, or the lane failed by itself; 2 if the trials did not all run within ``--deadline-s``
(default: 120 s + 0.5 s a trial); 128 + N when ended by signal N, the lane of the trial at hand
killed too (bench/_lifetime.py). Nothing here reads the time of day.

SIGKILL leaves the kernel's page cache intact, so this checks the write ordering and atomicity of
our code; surviving the loss of the cache itself rests on ``synchronous=FULL`` and the fsyncs in
``write_atomically`` (see ``tests/support/powercut.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from bench._lifetime import Lifetime, bench_lifetime, log  # noqa: E402
from tests.support.powercut import Tally, run_trials  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0, help="seeds the kill delays and the lane's schedule")
    parser.add_argument("--min-delay-ms", type=float, default=5.0)
    parser.add_argument("--max-delay-ms", type=float, default=80.0)
    parser.add_argument("--dir", type=Path, help="lane directory to use and keep (default: a temporary one)")
    parser.add_argument(
        "--deadline-s", type=float, help="the whole run's deadline (default: 120 s + 0.5 s a trial)"
    )
    args = parser.parse_args(argv)

    started = time.monotonic()
    every = max(1, args.trials // 10)

    life: Lifetime

    def progress(tally: Tally) -> None:
        if tally.trials % every == 0 or not tally.clean:
            log(
                f"trial {tally.trials}/{args.trials}: seq {tally.last_seq}, roster v{tally.roster_version}, "
                f"lost {tally.lost_events}, corrupt {tally.corrupt_rosters}, "
                f"{time.monotonic() - started:.1f} s"
            )
        if tally.trials < args.trials and not life.remaining():
            life.fail(f"only {tally.trials} of {args.trials} trials ran {life.within_deadline}")

    def run(workdir: Path) -> Tally:
        life.step(f"{args.trials} trials in {workdir}")
        return run_trials(
            workdir,
            args.trials,
            seed=args.seed,
            progress=progress,
            min_delay_s=args.min_delay_ms / 1000,
            max_delay_s=args.max_delay_ms / 1000,
        )

    with bench_lifetime("powercut", args.deadline_s or 120.0 + 0.5 * args.trials) as life:
        if args.dir is not None:
            tally = run(args.dir)
        else:
            with tempfile.TemporaryDirectory(prefix="sitegate-powercut-") as tmp:
                tally = run(Path(tmp))
    for problem in tally.problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    result = {**tally.summary(), "seed": args.seed, "elapsed_s": round(time.monotonic() - started, 2)}
    print(json.dumps(result))
    return 0 if tally.clean else 1


if __name__ == "__main__":
    sys.exit(main())
