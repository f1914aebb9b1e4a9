"""Build-time voice prompts: every spoken phrase of :mod:`wire.labels`, as a WAV file.

    python -m controller.feedback.prompts OUT_DIR [--voice cmn] [--speed 200]

``make prompts`` and the image build (``firmware/image``) run this; the lane only plays the files.
espeak-ng's Mandarin voice (``cmn``) speaks each phrase; sox then trims the silence espeak-ng
leaves around it and normalises it to -1 dBFS, so every prompt is as loud as the next and the
site's volume setting means the same for all of them. Debian: espeak-ng, sox.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from wire.labels import LABELS, Subject, label_for
from wire.models import Reason

DEFAULT_VOICE = "cmn"
DEFAULT_SPEED = 200
"""Words a minute: espeak-ng's Mandarin takes about 0.3 s a syllable at 200; slower drags while
a queue waits."""
SAMPLE_RATE = 22050


def prompt_file(subject: Subject) -> str:
    """``granted.wav`` for a reason, ``lane-ready.wav`` for an idle state (names never clash)."""
    return f"{subject.value}.wav" if isinstance(subject, Reason) else f"lane-{subject.value}.wav"


def build_prompt(text: str, target: Path, *, voice: str = DEFAULT_VOICE, speed: int = DEFAULT_SPEED) -> None:
    with tempfile.TemporaryDirectory(prefix="sitegate-prompt-") as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
        subprocess.run(
            ["sox", str(raw), "-r", str(SAMPLE_RATE), "-b", "16", "-c", "1", str(target),
             "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
             "norm", "-1", "pad", "0.05", "0.1"],
            check=True,
        )  # fmt: skip


def build_all(directory: Path, *, voice: str = DEFAULT_VOICE, speed: int = DEFAULT_SPEED) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    made = []
    for subject in LABELS:
        target = directory / prompt_file(subject)
        build_prompt(label_for(subject).spoken.zh, target, voice=voice, speed=speed)
        made.append(target)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--voice", default=DEFAULT_VOICE)
    parser.add_argument("--speed", type=int, default=DEFAULT_SPEED)
    args = parser.parse_args(argv)
    try:
        made = build_all(args.directory, voice=args.voice, speed=args.speed)
    except (OSError, subprocess.CalledProcessError) as err:
        print(f"prompts: {err} (Debian packages espeak-ng and sox)", file=sys.stderr)
        return 1
    print(f"{len(made)} prompts in {args.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
