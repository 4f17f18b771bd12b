"""One progress line for a running sweep: trials done and failed, batches running, and an ETA."""

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


LOG_EVERY_S = 10.0
"""Off a terminal, the least seconds between two lines: a line per change would be 10^5 lines."""


class ProgressLine:
    """Redraws one line on a terminal; elsewhere (CI, a log file) prints a line when the counts
    changed, at most every LOG_EVERY_S seconds, and the last state when the sweep ends.

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
        self._printed = ""
        self._printed_at = float("-inf")

    @property
    def stream(self) -> TextIO:
        """Where the line goes."""
        return self._stream or sys.stderr

    def text(self) -> str:
        """The current line, e.g. '[smoke] 3/8 done, 0 failed, 2 batches running, 12s elapsed, ETA 20s'."""
        finished = self.done + self.failed
        now = time.monotonic()
        elapsed = now - self.start
        running_s = now - (self.first_trial_start or now)
        eta = "ETA --" if finished == 0 else f"ETA {format_duration(running_s / finished * (self.total - self.skipped - finished))}"
        resumed = f" ({self.skipped} already stored)" if self.skipped else ""
        return (
            f"[{self.sweep}] {self.skipped + self.done}/{self.total} done{resumed}, {self.failed} failed, "
            f"{self.running} batch{'es' * (self.running != 1)} running, {format_duration(elapsed)} elapsed, {eta}"
        )

    def update(self, done: int, running: int, failed: int) -> None:
        """Record new counts (trials done ok, batches running, trials failed) and redraw."""
        self.done, self.running, self.failed = done, running, failed
        if running and self.first_trial_start is None:
            self.first_trial_start = time.monotonic()
        line = self.text()
        if self.stream.isatty():
            self.stream.write("\r\033[K" + line)
            self.stream.flush()
        elif self._changed(line) and (time.monotonic() - self._printed_at >= LOG_EVERY_S or done + failed + self.skipped == self.total):
            self._print(line)

    def _changed(self, line: str) -> bool:
        return line.split(", ")[:3] != self._printed.split(", ")[:3]  # the counts, not the clock

    def _print(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
        self._printed, self._printed_at = line, time.monotonic()

    def close(self) -> None:
        """End the line on a terminal; elsewhere, print the last counts if they were not printed."""
        if self.stream.isatty():
            self.stream.write("\n")
            self.stream.flush()
        elif self._changed(self.text()):
            self._print(self.text())
