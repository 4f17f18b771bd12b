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
    last = stream.getvalue().strip().splitlines()[-1]
    assert last.startswith("[demo] 6/10 done (4 already stored), 2 running, 1 failed")
    assert re.search(r"ETA \d+s$", last)


def test_off_a_terminal_only_changed_counts_print_a_new_line():
    stream = io.StringIO()
    line = ProgressLine("demo", total=3, stream=stream)
    line.update(0, 1, 0)
    line.update(0, 1, 0)
    line.update(1, 0, 0)
    assert len(stream.getvalue().splitlines()) == 2
