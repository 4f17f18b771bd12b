"""The progress line: counts, a resumed sweep's stored trials, and an ETA once trials finish."""

from __future__ import annotations

import io
import re

import pytest

from orchestrator.progress import ProgressLine, format_duration


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (45.4, "45s"), (185, "3m05s"), (7620, "2h07m")])
def test_durations_read_like_a_person_would_write_them(seconds, text):
    assert format_duration(seconds) == text


def test_the_line_counts_stored_trials_as_done_and_estimates_the_rest():
    stream = io.StringIO()
    line = ProgressLine("demo", total=10, skipped=4, stream=stream)
    line.update(done=0, running=2, failed=0)
    assert "ETA --" in stream.getvalue()
    line.update(done=2, running=2, failed=1)
    line.close()
    last = stream.getvalue().strip().splitlines()[-1]
    assert last.startswith("[demo] 6/10 done (4 already stored), 1 failed, 2 batches running")
    assert re.search(r"ETA \d+s$", last)


def test_off_a_terminal_a_burst_of_changes_prints_one_line_and_the_end_prints_the_last_counts():
    stream = io.StringIO()
    line = ProgressLine("demo", total=30, stream=stream)
    line.update(0, 1, 0)
    for done in range(1, 20):  # a burst: in a log, 10^5 trials must not be 10^5 lines
        line.update(done, 1, 0)
    assert len(stream.getvalue().splitlines()) == 1
    line.close()
    assert [text.split(", ")[0] for text in stream.getvalue().splitlines()] == ["[demo] 0/30 done", "[demo] 19/30 done"]
    line.update(30, 0, 0)  # the sweep's end is always printed
    assert stream.getvalue().splitlines()[-1].startswith("[demo] 30/30 done")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_a_change_held_back_is_printed_once_its_time_comes():
    stream, clock = io.StringIO(), Clock()
    line = ProgressLine("demo", total=30, stream=stream, clock=clock)
    line.update(0, 1, 0)
    clock.now = 2.0
    line.update(0, 2, 0)  # a second batch starts 2 s later: held back, and no event follows
    assert len(stream.getvalue().splitlines()) == 1
    clock.now = 11.0
    line.refresh()
    assert stream.getvalue().splitlines()[-1].startswith("[demo] 0/30 done, 0 failed, 2 batches running")


def test_off_a_terminal_a_long_trial_still_shows_the_clock_move_and_an_idle_line_does_not():
    stream, clock = io.StringIO(), Clock()
    line = ProgressLine("demo", total=2, stream=stream, clock=clock)
    line.update(0, 1, 0)
    for minute in range(1, 4):  # one trial of three minutes: a line a minute
        clock.now = 60.0 * minute
        line.refresh()
    assert [text.split(", ")[3] for text in stream.getvalue().splitlines()] == ["0s elapsed", "1m00s elapsed", "2m00s elapsed", "3m00s elapsed"]
    line.update(1, 0, 0)  # held back (just printed), then printed at the next refresh
    clock.now = 1000.0
    line.refresh()
    printed = stream.getvalue().splitlines()
    assert printed[-1].startswith("[demo] 1/2 done, 0 failed, 0 batches running")
    clock.now = 2000.0
    line.refresh()  # nothing running, nothing changed: no heartbeat
    assert stream.getvalue().splitlines() == printed
