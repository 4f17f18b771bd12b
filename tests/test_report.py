"""One page shows whether the paper reproduces: every claim has its section, the counts are verify's,
the figures are inside, a later report lists what changed, and a real browser lays it out with
every figure loaded and nothing wider than a laptop's window."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestrator.cli import cli
from orchestrator.verify import CLAIMS, counts, verify_store

CLASSIFICATION = """\
name: tiny_cls
experiment: manifold_classification
grid: {k: [3, 8, 20], L: [0, 3, 6]}
seeds: [0, 1, 2]
workload: {width: 8, depth: 2, n_points: 64, steps: 60, eval_every_steps: 30}
"""
REGRESSION = """\
name: tiny_reg
experiment: manifold_regression
grid: {L: [0, 2, 4]}
seeds: [0, 1, 2]
workload: {frequencies: [2, 5, 9], width: 8, depth: 2, n_points: 64, steps: 60, eval_every_steps: 30}
"""
BROWSER = shutil.which("chromium-headless-shell") or shutil.which("chromium")
REQUIRE_BROWSER = os.environ.get("SBSWEEP_REQUIRE_BROWSER") == "1"  # set by .ci/run, which installs it


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store of two tiny sweeps run in this process, with their figures drawn."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import stored_sweep

    from orchestrator.figures import draw_figures
    from orchestrator.spec import load_spec
    from orchestrator.store import save_sweep

    folder = tmp_path_factory.mktemp("report")
    written = folder / "tiny_cls.yaml"
    written.write_text(CLASSIFICATION)
    store, sweep = stored_sweep(folder, CLASSIFICATION, lambda text: written)
    save_sweep(store, sweep, load_spec(written).stored_form())
    draw_figures(store)
    return store


def test_the_report_has_a_section_for_every_claim_with_verifys_counts_and_its_figures_inside(store):
    result = CliRunner().invoke(cli, ["report", str(store), "--json"])
    assert result.exit_code == 0, result.output
    page = (store / "report" / "report.html").read_text()
    data = json.loads((store / "report" / "report.json").read_text())
    for claim in CLAIMS:
        assert f'<section class="claim" id="{claim.claim_id}">' in page, claim.claim_id
    assert [c["claim_id"] for c in data["claims"]] == [c.claim_id for c in CLAIMS]  # the paper's order
    assert {k: data["summary"][k] for k in counts([])} == counts(verify_store(store))
    assert re.search(r'<img alt="figure4_tiny_cls.png" src="data:image/png;base64,iVBORw0KGgo', page)  # embedded, not linked
    assert "http://" not in page and "https://" not in page  # nothing to fetch: it reads offline
    provenance = data["provenance"]
    assert provenance["sweeps"][0]["sweep"] == "tiny_cls" and provenance["sweeps"][0]["trials"]["ok"] == 27
    assert provenance["devices"] == {"cpu": 27} and provenance["torch"] and provenance["code_commit"]


def test_a_later_report_keeps_the_earlier_one_and_lists_the_verdicts_that_changed(store, tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import stored_sweep

    first = CliRunner().invoke(cli, ["report", str(store)])
    assert first.exit_code == 0, first.output
    written = tmp_path / "tiny_reg.yaml"
    written.write_text(REGRESSION)
    stored_sweep(store.parent, REGRESSION, lambda text: written)  # the same store: Experiment 2 gains data
    second = CliRunner().invoke(cli, ["report", str(store), "--json"])
    changed = {c["verdict"]: (c["before"], c["after"]) for c in json.loads(second.output)["changed"]}
    # C2 had no sweep to judge ("no data" on the store); now it has tiny_reg's verdict instead.
    assert changed["C2 | - | -"] == ("no data", "absent") and changed["C2 | tiny_reg | -"][0] == "absent", changed
    assert all(key.startswith(("C2 ", "C2b ")) for key in changed), changed
    assert list((store / "report" / "history").glob("report-*.json")), "the earlier report is kept"


@pytest.mark.skipif(BROWSER is None and not REQUIRE_BROWSER, reason="needs headless Chromium: apt-get install chromium-headless-shell")
def test_a_real_browser_loads_every_figure_of_the_report_and_lays_it_out_without_horizontal_overflow(store, tmp_path):
    assert BROWSER, "no headless Chromium on this machine (.ci/run installs chromium-headless-shell)"
    CliRunner().invoke(cli, ["report", str(store), "--out", str(tmp_path)])
    probe = """<script>window.addEventListener('load', () => {
      const images = [...document.images];
      const seen = {images: images.length, loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
                    scroll_width: document.documentElement.scrollWidth, window_width: window.innerWidth};
      const out = document.createElement('pre'); out.id = 'probe'; out.textContent = JSON.stringify(seen); document.body.appendChild(out);
    });</script>"""
    page = tmp_path / "probed.html"
    page.write_text((tmp_path / "report.html").read_text().replace("</body>", probe + "</body>"))
    done = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                           "--window-size=1280,900", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    seen = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', done.stdout).group(1))
    assert seen["images"] >= 1 and seen["loaded"] == seen["images"], seen
    assert seen["window_width"] == 1280 and seen["scroll_width"] <= seen["window_width"], seen


SUITE_SWEEPS = {
    "a.yaml": "name: tiny_a\nexperiment: manifold_classification\ngrid: {k: [3, 20], L: [0, 6]}\nseeds: [0, 1, 2]\n"
              "workload: {width: 8, depth: 2, n_points: 64, steps: 100, eval_every_steps: 50}\n",
    "b.yaml": "name: tiny_b\nexperiment: perturbation\ngrid: {delta: [0.0, 0.5, 1.0]}\nseeds: [0, 1, 2]\n"
              "workload: {frequencies: [2, 5], n_points: 32, width: 8, depth: 2, steps: 100, eval_every_steps: 50, directions: 4}\n",
    "suite.yaml": "name: tiny\ndescription: two tiny sweeps\nsweeps: [a.yaml, b.yaml]\n",
}


def test_reproduce_runs_a_suites_sweeps_together_then_judges_and_reports_and_running_it_again_resumes(tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import stored_sweep

    for name, text in SUITE_SWEEPS.items():
        (tmp_path / name).write_text(text)
    store = tmp_path / "store"
    stored_sweep(tmp_path, SUITE_SWEEPS["a.yaml"], lambda text: tmp_path / "a.yaml")  # sweep a, stored before: the suite resumes it
    result = CliRunner().invoke(cli, ["reproduce", str(tmp_path / "suite.yaml"), "--store", str(store), "--num-cpus", "2"])
    assert result.exit_code in (0, 1, 3, 4, 5), result.output
    assert "sweep 'tiny_a' (manifold_classification), 12 trials, 12 already stored" in result.output  # resumed: nothing of a reruns
    progress = [line for line in result.output.splitlines() if line.startswith("[")]
    assert progress and all(line.startswith(("[suite-tiny]", "[suite-tiny: prepare]")) for line in progress), progress  # one line for all
    assert "[suite-tiny] 21/21 done (12 already stored)" in result.output
    record = json.loads((store / "suites" / "tiny.json").read_text())
    assert record["sweeps"] == ["tiny_a", "tiny_b"] and record["finished"] and record["wall_s"] >= record["launch_s"] > 0
    data = json.loads((store / "report" / "report.json").read_text())
    assert data["scale"]["name"] == "tiny" and {s["sweep"] for s in data["provenance"]["sweeps"]} == {"tiny_a", "tiny_b"}
    again = CliRunner().invoke(cli, ["reproduce", str(tmp_path / "suite.yaml"), "--store", str(store), "--no-report"])
    assert "12 trials, 12 already stored" in again.output and "9 trials, 9 already stored" in again.output
    assert "Ray start" not in again.output  # nothing to run: no Ray
    # The rerun ran nothing: the record keeps the run that did the work beside it.
    rerun = json.loads((store / "suites" / "tiny.json").read_text())
    assert rerun["trials_run"] == 0 and rerun["started_at"] >= record["started_at"]
    assert [(one["started_at"], one["trials_run"], one["wall_s"]) for one in rerun["earlier"]] == [
        (record["started_at"], 9, record["wall_s"])]


def test_reproduce_refuses_a_suite_naming_a_sweep_file_that_is_not_there_in_one_line(tmp_path):
    (tmp_path / "suite.yaml").write_text("name: broken\nsweeps:\n  - a.yaml\n  - missing.yaml\n")
    (tmp_path / "a.yaml").write_text(SUITE_SWEEPS["a.yaml"])
    result = CliRunner().invoke(cli, ["reproduce", str(tmp_path / "suite.yaml"), "--store", str(tmp_path / "store")])
    assert result.exit_code == 2 and not (tmp_path / "store").exists()
    assert result.output.strip() == f"Error: {tmp_path / 'suite.yaml'}:4: sweeps[1]: no sweep file missing.yaml (next to {tmp_path / 'suite.yaml'})"
