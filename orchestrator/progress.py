"""One progress line for a running sweep: done / running / failed and an ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_duration(seconds: float) -> str:
    """Seconds as a short human duration: '45s', '3m05s', '2h07m'."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ProgressLine:
    """Redraws one line on a terminal; elsewhere (CI, a log file) prints a line per change.

    The ETA is throughput based (trials finished per second since the first trial started), which
    is right whatever the parallelism, once a few trials have finished; Ray's start-up is left out.
    """

    def __init__(self, sweep: str, total: int, skipped: int = 0, stream: TextIO | None = None) -> None:
        self.sweep, self.total, self.skipped = sweep, total, skipped
        # None means "sys.stderr when writing": Tune pickles its callbacks, and a terminal's
        # stream (or a test runner's) cannot be pickled.
        self._stream = stream
        self.start = time.monotonic()
        self.first_trial_start: float | None = None
        self.done = self.running = self.failed = 0
        self._last = ""

    @property
    def stream(self) -> TextIO:
        """Where the line goes."""
        return self._stream or sys.stderr

    def text(self) -> str:
        """The current line, e.g. '[smoke] 3/8 done, 2 running, 0 failed, 12s elapsed, ETA 20s'."""
        finished = self.done + self.failed
        now = time.monotonic()
        elapsed = now - self.start
        running_s = now - (self.first_trial_start or now)
        eta = "ETA --" if finished == 0 else f"ETA {format_duration(running_s / finished * (self.total - self.skipped - finished))}"
        resumed = f" ({self.skipped} already stored)" if self.skipped else ""
        return (
            f"[{self.sweep}] {self.skipped + self.done}/{self.total} done{resumed}, {self.running} running, "
            f"{self.failed} failed, {format_duration(elapsed)} elapsed, {eta}"
        )

    def update(self, done: int, running: int, failed: int) -> None:
        """Record new counts and redraw."""
        self.done, self.running, self.failed = done, running, failed
        if running and self.first_trial_start is None:
            self.first_trial_start = time.monotonic()
        line = self.text()
        if self.stream.isatty():
            self.stream.write("\r\033[K" + line)
            self.stream.flush()
        elif line.split(", ")[:3] != self._last.split(", ")[:3]:
            self.stream.write(line + "\n")
            self.stream.flush()
        self._last = line

    def close(self) -> None:
        """End the line on a terminal."""
        if self.stream.isatty():
            self.stream.write("\n")
            self.stream.flush()
