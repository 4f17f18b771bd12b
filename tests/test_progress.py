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
