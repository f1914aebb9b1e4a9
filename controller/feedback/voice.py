"""The lane's voice: prompts made at build time, played with ``aplay``, at the site's volume.

Prompts are WAV files in ``[voice] prompts_dir`` (one per reason and idle state, named by
:func:`controller.feedback.prompts.prompt_file`), made by ``make prompts`` or the image build from
the spoken phrases of :mod:`wire.labels`; nothing is synthesised and nothing is fetched at run time.

Volume is applied here, once, when the prompts are loaded: the samples are scaled, so the level
is the same on any amplifier (the MAX98357A has no mixer control) and needs no ALSA set-up. During
the site's quiet hours (judged on the lane's injected clock, never the wall clock directly) the
quiet volume applies instead: zero mutes the lane.

Playing never waits: ``aplay`` reads the prompt from a pipe fed by this object's own thread, and a
newer prompt stops the one still playing (the next worker's outcome matters, not the last one's).
"""

from __future__ import annotations

import array
import contextlib
import functools
import io
import logging
import os
import signal
import subprocess
import sys
import threading
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from controller.core.policy import TimeWindow
from controller.feedback.prompts import prompt_file
from wire.clock import Clock
from wire.labels import LABELS, Subject

log = logging.getLogger(__name__)

PLAY_TIMEOUT_S = 15.0
"""No prompt is this long: a player still running after it is stuck (a wedged sound card) and killed."""


class VoiceError(RuntimeError):
    """The prompts cannot be loaded (missing directory, a damaged file)."""


def scaled_wav(data: bytes, volume: int) -> bytes:
    """The WAV file ``data`` (16-bit PCM) with its samples scaled to ``volume`` percent."""
    with wave.open(io.BytesIO(data)) as source:
        params = source.getparams()
        frames = source.readframes(params.nframes)
    if params.sampwidth != 2:
        raise VoiceError(f"prompts are 16-bit PCM, not {8 * params.sampwidth}-bit")
    samples = array.array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()
    samples = array.array("h", map(_scale_table(max(0, min(volume, 100))).__getitem__, samples))
    if sys.byteorder == "big":
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setparams(params)
        target.writeframes(samples.tobytes())
    return out.getvalue()


@functools.lru_cache(maxsize=4)
def _scale_table(volume: int) -> list[int]:
    """Every 16-bit sample's scaled value, indexed by the sample itself (a negative one from the
    end, as a list's negative index reads): a lookup per sample instead of a multiply and an
    ``int()`` call, the same samples out (20 prompts at two levels at each lane start: 0.39 ->
    0.33 CPU-s here, more on a Pi)."""
    factor = volume / 100
    return [int(s * factor) for s in range(32768)] + [int(s * factor) for s in range(-32768, 0)]


@dataclass(frozen=True, slots=True)
class Levels:
    volume: int
    quiet_volume: int
    quiet_hours: TimeWindow | None

    def now(self, clock: Clock) -> int:
        if self.quiet_hours is not None and self.quiet_hours.contains(clock.now().time()):
            return self.quiet_volume
        return self.volume


class Prompts:
    """Every prompt, at every level in use, as WAV bytes ready to pipe to the player."""

    def __init__(self, directory: Path, levels: Levels) -> None:
        self._by_level: dict[int, dict[Subject, bytes]] = {}
        raw: dict[Subject, bytes] = {}
        missing = []
        for subject in LABELS:
            path = directory / prompt_file(subject)
            try:
                raw[subject] = path.read_bytes()
            except OSError:
                missing.append(path.name)
        if missing:
            raise VoiceError(f"{directory}: no prompt {', '.join(missing)} (make prompts)")
        for level in {levels.volume, levels.quiet_volume} - {0}:
            try:
                self._by_level[level] = {subject: scaled_wav(data, level) for subject, data in raw.items()}
            except (wave.Error, EOFError) as err:
                raise VoiceError(f"{directory}: a prompt is not a WAV file: {err}") from err

    def get(self, subject: Subject, level: int) -> bytes | None:
        """The prompt at ``level`` percent; ``None`` when muted."""
        return None if level == 0 else self._by_level[level][subject]


class Player:
    """Plays one prompt at a time through a command that reads WAV on stdin (``aplay -q -``)."""

    def __init__(self, command: Sequence[str]) -> None:
        self.command = list(command)
        self._lock = threading.Lock()
        self._current: subprocess.Popen[bytes] | None = None
        self._stopped: subprocess.Popen[bytes] | None = None
        self.played = 0
        self.stopped = 0

    def play(self, wav: bytes) -> None:
        """Blocks its caller (the feedback worker) until played, stopped by a newer prompt, or timed
        out; raises OSError if the player cannot start or the sound device refuses it."""
        self.stop()
        process = subprocess.Popen(
            [*self.command, "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: stopped whole, helpers and all
        )
        with self._lock:
            self._current = process
        try:
            _, errors = process.communicate(wav, timeout=PLAY_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.communicate()
            raise OSError(f"{self.command[0]} still playing after {PLAY_TIMEOUT_S:.0f} s: killed") from None
        finally:
            with self._lock:
                if self._current is process:
                    self._current = None
                stopped, self._stopped = self._stopped is process, None
        if stopped:  # for a newer prompt: however the player ended (aplay exits 1 on SIGTERM)
            self.stopped += 1
            return
        if process.returncode != 0:
            message = errors.decode(errors="replace").strip().splitlines()
            raise OSError(f"{self.command[0]} exited {process.returncode}: {message[-1] if message else ''}")
        self.played += 1

    def stop(self) -> None:
        with self._lock:
            process = self._current
            if process is None or process.poll() is not None:
                return
            self._stopped = process
        _signal_group(process, signal.SIGTERM)


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # ended meanwhile
        os.killpg(process.pid, signum)
