"""The feedback child process: the lane's screen and voice, out of the lane's interpreter lock.

    python -m controller.feedback.child     (started by FeedbackProcess; not by hand)

stdin: the setup (one JSON line, :class:`~controller.feedback.build.FeedbackSetup`), then one line
per thing to show: ``{"show": "card_expired", "kind": "reason", "person": "张*明", "level": 80}``
or ``{"idle": "offline", "speak": true, "level": 80}``. The lane has already masked the name and
judged the volume on its own clock. stdout: a status line (faults and counts) whenever it changes.
The child ends when stdin closes, or when the lane dies (PR_SET_PDEATHSIG); it runs at nice 10,
and so do the players it starts: the lane's decisions come first on a busy core.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import os
import signal
import sys
import threading
from typing import Any

from controller.feedback.build import FeedbackSetup, local_feedback
from controller.feedback.names import MaskedName
from controller.feedback.worker import Feedback
from wire.labels import LaneState, OfficeRead, Subject
from wire.models import Reason

log = logging.getLogger("sitegate.feedback")

PR_SET_PDEATHSIG = 1
NICENESS = 10
"""Below the lane: on a busy core the scheduler runs the decision first, the screen after."""
STATUS_EVERY_S = 0.5


def _die_with_parent() -> None:
    name = ctypes.util.find_library("c")
    if name is not None:
        ctypes.CDLL(name).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def status(feedback: Feedback) -> dict[str, Any]:
    screen, voice = feedback.screen, feedback.voice
    return {
        "faults": feedback.faults,
        "drawn": screen.drawn if screen else 0,
        "stale": screen.queue.stale if screen else 0,
        "played": voice.player.played if voice else 0,
        "muted": voice.muted if voice else 0,
    }


def _report(feedback: Feedback, stop: threading.Event) -> None:
    last: dict[str, Any] | None = None
    while not stop.wait(STATUS_EVERY_S):
        now = status(feedback)
        if now != last:
            print(json.dumps(now, ensure_ascii=False), flush=True)
            last = now


def dispatch(feedback: Feedback, message: dict[str, Any]) -> None:
    if "show" in message:
        kinds: dict[str, type[Subject]] = {"reason": Reason, "office": OfficeRead}
        subject: Subject = kinds.get(message.get("kind", ""), LaneState)(message["show"])
        person = message.get("person")
        feedback._show(subject, MaskedName(person) if person else None, int(message["level"]))
    elif "idle" in message:
        feedback._idle(LaneState(message["idle"]), bool(message["speak"]), int(message["level"]))


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    _die_with_parent()
    os.nice(NICENESS)
    setup = FeedbackSetup.model_validate_json(sys.stdin.readline())
    pin_factory = None
    if setup.mock_pins:
        from gpiozero.pins.mock import MockFactory

        pin_factory = MockFactory()
    feedback = local_feedback(setup, clock=None, pin_factory=pin_factory)
    if feedback is None:
        return 0
    for part in (feedback.screen, feedback.voice):
        if part is not None:
            part.start()
    stop = threading.Event()
    reporter = threading.Thread(target=_report, args=(feedback, stop), name="sitegate-status", daemon=True)
    reporter.start()
    try:
        for line in sys.stdin:
            try:
                dispatch(feedback, json.loads(line))
            except (ValueError, KeyError, TypeError) as err:
                log.error("feedback child: a message it cannot read: %s", err)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        feedback.close()
    print(json.dumps(status(feedback), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.exit(main())
