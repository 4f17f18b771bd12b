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

    The ETA is throughput based (trials finished per second of wall time so far), which is
    right whatever the parallelism, once a few trials have finished.
    """

    def __init__(self, sweep: str, total: int, skipped: int = 0, stream: TextIO | None = None) -> None:
        self.sweep, self.total, self.skipped = sweep, total, skipped
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.done = self.running = self.failed = 0
        self._last = ""
        self._tty = self.stream.isatty()

    def text(self) -> str:
        """The current line, e.g. '[smoke] 3/8 done, 2 running, 0 failed, 12s elapsed, ETA 20s'."""
        finished = self.done + self.failed
        elapsed = time.monotonic() - self.start
        eta = "ETA --" if finished == 0 else f"ETA {format_duration(elapsed / finished * (self.total - finished))}"
        resumed = f" ({self.skipped} already stored)" if self.skipped else ""
        return (
            f"[{self.sweep}] {self.done}/{self.total} done{resumed}, {self.running} running, "
            f"{self.failed} failed, {format_duration(elapsed)} elapsed, {eta}"
        )

    def update(self, done: int, running: int, failed: int) -> None:
        """Record new counts and redraw."""
        self.done, self.running, self.failed = done, running, failed
        line = self.text()
        if self._tty:
            self.stream.write("\r\033[K" + line)
            self.stream.flush()
        elif line.split(", ")[:3] != self._last.split(", ")[:3]:
            self.stream.write(line + "\n")
            self.stream.flush()
        self._last = line

    def close(self) -> None:
        """End the line on a terminal."""
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()
