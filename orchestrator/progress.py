"""One progress line for a running sweep: trials done and failed, batches running, and an ETA."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
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
HEARTBEAT_S = 60.0
"""Off a terminal, a line at least this often while trials run, counts changed or not, so a log
shows the time and the ETA moving through trials that take an hour."""


class ProgressLine:
    """Redraws one line on a terminal; elsewhere (CI, a log file) prints a line when the counts
    changed, at most every LOG_EVERY_S seconds (a change held back is printed once that has
    passed), at least every HEARTBEAT_S while it runs, and the last state when the sweep ends.

    The ETA is throughput based (trials finished per second since the first trial started), which
    is right whatever the parallelism, once a few trials have finished; Ray's start-up is left out.
    """

    def __init__(
        self, sweep: str, total: int, skipped: int = 0, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.sweep, self.total, self.skipped, self.clock = sweep, total, skipped, clock
        self.work_done: float | None = None
        """the share of the work to do that is done, where trials differ in cost (SharedProgress);
        None: every trial counts the same"""
        # None means "sys.stderr when writing": Tune pickles its callbacks, and a terminal's
        # stream (or a test runner's) cannot be pickled.
        self._stream = stream
        self.start = clock()
        self.first_trial_start: float | None = None
        self.done = self.running = self.failed = 0
        self._printed = ""
        self._printed_at = float("-inf")
        self._drawn_at = float("-inf")

    @property
    def stream(self) -> TextIO:
        """Where the line goes."""
        return self._stream or sys.stderr

    def text(self) -> str:
        """The current line, e.g. '[smoke] 3/8 done, 0 failed, 2 batches running, 12s elapsed, ETA 20s'."""
        finished = self.done + self.failed
        now = self.clock()
        elapsed = now - self.start
        running_s = now - (self.first_trial_start or now)
        if self.work_done is not None:
            eta = "ETA --" if not self.work_done > 0 else f"ETA {format_duration(running_s * (1 - self.work_done) / self.work_done)}"
        else:
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
            self.first_trial_start = self.clock()
        self._draw(final=done + failed + self.skipped == self.total)

    def refresh(self) -> None:
        """Called between events (the driver's loop): a change held back, the heartbeat off a
        terminal, the clock on one."""
        # Called at every step of the driver's loop: return before building a line that would not show.
        last, wait_s = (self._drawn_at, 1.0) if self.stream.isatty() else (self._printed_at, LOG_EVERY_S)
        if self.clock() - last < wait_s:
            return
        self._draw(final=False)

    def _draw(self, final: bool) -> None:
        line = self.text()
        since = self.clock() - self._printed_at
        if self.stream.isatty():
            self.stream.write("\r\033[K" + line)
            self.stream.flush()
            self._drawn_at = self.clock()
        elif (self._changed(line) and (since >= LOG_EVERY_S or final)) or (self.running and since >= HEARTBEAT_S):
            self._print(line)

    def _changed(self, line: str) -> bool:
        return line.split(", ")[:3] != self._printed.split(", ")[:3]  # the counts, not the clock

    def _print(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
        self._printed, self._printed_at = line, self.clock()

    def close(self) -> None:
        """End the line on a terminal; elsewhere, print the last counts if they were not printed."""
        if self.stream.isatty():
            self.stream.write("\n")
            self.stream.flush()
        elif self._changed(self.text()):
            self._print(self.text())


class SharedProgress:
    """Several sweeps run together (`sbsweep reproduce`) on one ProgressLine: each sweep's writer
    updates its own part, and the line shows their sums. The ETA weighs each sweep's trials by
    their estimated cost (`seconds_per_trial`), since a suite's trials differ by a hundredfold."""

    def __init__(self, line: ProgressLine, to_run: list[int], seconds_per_trial: list[float]) -> None:
        self.line, self.to_run, self.weights = line, to_run, seconds_per_trial
        self.counts = [(0, 0, 0) for _ in to_run]
        self.closed = False

    def part(self, index: int) -> ProgressPart:
        """The part of sweep `index` (in the order given)."""
        return ProgressPart(self, index)

    def update(self, index: int, done: int, running: int, failed: int) -> None:
        """Sweep `index`'s new counts; redraw the line with the sums."""
        self.counts[index] = (done, running, failed)
        total_work = sum(n * w for n, w in zip(self.to_run, self.weights)) or 1.0
        self.line.work_done = sum((d + f) * w for (d, _, f), w in zip(self.counts, self.weights)) / total_work
        self.line.update(*(sum(c[i] for c in self.counts) for i in range(3)))

    def refresh(self) -> None:
        """Between events: see ProgressLine.refresh."""
        self.line.refresh()

    def close(self) -> None:
        """End the line once, however many parts close it."""
        if not self.closed:
            self.closed = True
            self.line.close()


class ProgressPart:
    """One sweep's view of a SharedProgress: what a StoreWriter draws on."""

    def __init__(self, shared: SharedProgress, index: int) -> None:
        self.shared, self.index = shared, index

    def update(self, done: int, running: int, failed: int) -> None:
        """This sweep's new counts (trials done ok, batches running, trials failed)."""
        self.shared.update(self.index, done, running, failed)

    def refresh(self) -> None:
        """Between events: see ProgressLine.refresh."""
        self.shared.refresh()

    def close(self) -> None:
        """End the shared line (once)."""
        self.shared.close()
