"""Voice prompts: every phrase rendered to WAV (espeak-ng, sox) and checked with sox; the site's
volume and quiet hours on the lane's own clock; the player stops for a newer prompt."""

from __future__ import annotations

import re
import subprocess
import threading
import time
import wave
from datetime import time as time_of_day
from pathlib import Path

import pytest

from controller.core.policy import TimeWindow
from controller.feedback.prompts import build_all, prompt_file
from controller.feedback.voice import Levels, Player, Prompts, VoiceError, scaled_wav
from tests.support.clock import FakeClock, site_time
from wire.labels import LABELS, Subject, label_for
from wire.models import Reason

SECONDS_PER_SYLLABLE = 0.45
"""espeak-ng's Mandarin at the build's speed says about 3 syllables a second; this bounds it."""


def sox_stat(path: Path) -> dict[str, float]:
    result = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True)
    stats = {}
    for line in result.stderr.splitlines():
        key, _, value = line.partition(":")
        try:
            stats[key.strip()] = float(value.strip())
        except ValueError:
            continue
    return stats


@pytest.fixture(scope="module")
def prompts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("prompts")
    build_all(directory)
    return directory


@pytest.mark.parametrize("subject", list(LABELS), ids=str)
def test_every_prompt_is_speech_of_a_sane_length(prompts_dir: Path, subject: Subject) -> None:
    stats = sox_stat(prompts_dir / prompt_file(subject))
    syllables = len(re.findall(r"[\u4e00-\u9fff]", label_for(subject).spoken.zh))
    assert 0.25 * syllables < stats["Length (seconds)"] < SECONDS_PER_SYLLABLE * syllables + 1.0, stats
    assert stats["Maximum amplitude"] > 0.8, stats  # normalised to -1 dBFS
    assert stats["RMS     amplitude"] > 0.03, stats  # speech, not a click in silence


def test_prompt_files_never_clash() -> None:
    assert len({prompt_file(subject) for subject in LABELS}) == len(LABELS)


def test_volume_scales_the_samples(prompts_dir: Path, tmp_path: Path) -> None:
    source = (prompts_dir / prompt_file(Reason.GRANTED)).read_bytes()
    half = tmp_path / "half.wav"
    half.write_bytes(scaled_wav(source, 50))
    full = sox_stat(prompts_dir / prompt_file(Reason.GRANTED))["Maximum amplitude"]
    assert sox_stat(half)["Maximum amplitude"] == pytest.approx(full / 2, rel=0.02)
    with (
        wave.open(str(half)) as scaled,
        wave.open(str(prompts_dir / prompt_file(Reason.GRANTED))) as original,
    ):
        assert scaled.getnframes() == original.getnframes()


def test_quiet_hours_follow_the_lanes_clock() -> None:
    levels = Levels(80, 20, TimeWindow(time_of_day(22), time_of_day(6)))
    clock = FakeClock(site_time(2026, 11, 24, 10, 0))
    assert levels.now(clock) == 80
    clock.set(site_time(2026, 11, 24, 23, 30))
    assert levels.now(clock) == 20
    clock.set(site_time(2026, 11, 25, 6, 0))
    assert levels.now(clock) == 80
    assert Levels(80, 20, None).now(clock) == 80


def test_a_muted_level_gives_no_prompt(prompts_dir: Path) -> None:
    prompts = Prompts(prompts_dir, Levels(70, 0, None))
    assert prompts.get(Reason.GRANTED, 0) is None
    assert prompts.get(Reason.GRANTED, 70) is not None


def test_missing_prompts_are_named(tmp_path: Path) -> None:
    with pytest.raises(VoiceError, match=r"granted\.wav"):
        Prompts(tmp_path, Levels(80, 0, None))


def test_the_player_pipes_the_prompt_and_reports_a_failing_device(prompts_dir: Path, tmp_path: Path) -> None:
    wav = (prompts_dir / prompt_file(Reason.GRANTED)).read_bytes()
    out = tmp_path / "played.wav"
    Player(["sh", "-c", f'cat "$0" > {out}']).play(wav)  # "$0" is the "-" the player appends
    assert out.read_bytes() == wav
    with pytest.raises(OSError, match="exited 3"):
        Player(["sh", "-c", "cat >/dev/null; echo 'no such card' >&2; exit 3"]).play(wav)
    with pytest.raises(FileNotFoundError):
        Player(["/nonexistent/aplay"]).play(wav)


def test_aplay_into_the_null_device(prompts_dir: Path) -> None:
    """The bench's player: real aplay, ALSA's null sink (no sound card needed)."""
    Player(["aplay", "-q", "-D", "null"]).play((prompts_dir / prompt_file(Reason.GRANTED)).read_bytes())


def test_a_newer_prompt_stops_the_one_playing() -> None:
    player = Player(["sh", "-c", "sleep 10"])  # a prompt that would play for 10 s, helper process and all
    done = threading.Event()

    def play() -> None:
        player.play(b"RIFF")
        done.set()

    threading.Thread(target=play, daemon=True).start()
    deadline = time.monotonic() + 5
    while player._current is None and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    player.stop()
    assert done.wait(5) and time.monotonic() - started < 2
