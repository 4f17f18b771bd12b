"""One page shows whether the paper reproduces: every claim has its section, the counts are verify's,
the figures are inside, a later report lists what changed, and a real browser lays it out with
every figure loaded and nothing wider than a laptop's window."""

from __future__ import annotations

import html
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


def test_the_report_has_a_section_for_every_claim_with_verifys_counts_its_figures_inside_and_what_ran(store):
    import shutil

    from orchestrator.store import drawn_figures, figures_folder, record_figures

    figures = figures_folder(store)
    if "figure6_tiny_cls.png" not in drawn_figures(figures, "tiny_cls"):  # a figure of the sweep no claim rests on (as Figure 6 is)
        shutil.copy(figures / "figure4_tiny_cls.png", figures / "figure6_tiny_cls.png")
        record_figures(store, figures, "tiny_cls", [figures / n for n in drawn_figures(figures, "tiny_cls")] + [figures / "figure6_tiny_cls.png"])
    result = CliRunner().invoke(cli, ["report", str(store), "--json"])
    assert result.exit_code == 0, result.output
    page = (store / "report" / "report.html").read_text()
    data = json.loads((store / "report" / "report.json").read_text())
    for claim in CLAIMS:
        assert f'<section class="claim" id="{claim.claim_id}">' in page, claim.claim_id
        assert f'<a href="#{claim.claim_id}">{claim.claim_id}</a>' in page  # in the nav and the overview
    assert [c["claim_id"] for c in data["claims"]] == [c.claim_id for c in CLAIMS]  # the paper's order
    verified = counts(verify_store(store))
    assert {k: data["summary"][k] for k in verified} == verified
    assert {k: int(n) for k, n in re.findall(r'data-count="([a-z ]+)">(\d+)<', page)} == verified  # the page's own counts
    assert re.search(r'<figure id="[^"]+"><div class="scroll"><a href="#[^"]+" title="show at full resolution"><img alt="Figure 4 as drawn '
                     r'from sweep tiny_cls \(figure4_tiny_cls\)" style="[^"]+" src="data:image/png;base64,iVBORw0KGgo', page)  # embedded
    assert "http://" not in page and "https://" not in page  # nothing to fetch: it reads offline
    for claim in ("C3a", "C3b"):  # a figure two claims rest on is shown with each
        section = page[page.index(f'<section class="claim" id="{claim}">'):].split("</section>")[0]
        assert "<figcaption>Figure 4: final training accuracy per (k, L)" in section and "drawn from sweep" in section, claim
    drawn = [name for name in drawn_figures(figures, "tiny_cls") if name.endswith(".png")]
    assert len(drawn) >= 2 and all(f"<code>{name}</code>" in page for name in drawn)  # every figure of the store is on the page
    [sweep] = data["provenance"]["sweeps"]
    assert sweep["sweep"] == "tiny_cls" and sweep["trials"]["ok"] == 27 and sweep["devices"] == {"cpu": 27}
    assert sweep["settings"]["grid"] == {"k": [3, 8, 20], "L": [0, 3, 6]} and sweep["settings"]["resolved"]["width"] == 8
    assert "workload: n_points" in page and "store.table(&#x27;curves&#x27;, sweep=&#x27;tiny_cls&#x27;)" in page  # what ran; its data
    provenance = data["provenance"]
    assert provenance["devices"] == {"cpu": 27} and provenance["torch"] and provenance["code_commit"]
    assert "report.json" in page and " UTC" in page


def test_a_verdicts_series_says_never_where_a_value_never_crossed_and_each_seed_is_named():
    from orchestrator.report import _seed_values, _series

    verdict = {"series_label": "learning time (steps), by k", "series": {"3": 120.0, "10": 1001.0}, "never_crossed": [10],
               "per_seed": [0.5, None, 1.0], "seed_ids": [4, 7, 9]}
    assert _series(verdict) == "learning time (steps), by k: k = 3: 120; k = 10: never reaches 0.5 (counted as 1001)"
    assert _seed_values(verdict) == "seed 4: +0.500; seed 7: undefined; seed 9: +1.000"


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
    assert list((store / "report" / "history").glob("report-*.json")) and list((store / "report" / "history").glob("report-*.html")), \
        "the earlier report is kept whole"
    page = (store / "report" / "report.html").read_text()
    assert "<td>no data</td><td>absent</td>" in page and '<a href="#v-C2-tiny_reg">' in page  # in the badges' words, linked


PROBE = """<script>window.addEventListener('load', () => {
  const problems = [], expected = EXPECTED;
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).split(' ')[0] : '');
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    problems.push('page wider than the window: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
  const parse = c => { const m = c.match(/[\\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                     return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => {
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c.a > 0.5) return c; }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (['hidden', 'clip'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) problems.push('hides content sideways: ' + describe(el));
    if (['hidden', 'clip'].includes(style.overflowY) && el.scrollHeight > el.clientHeight + 1) problems.push('hides content: ' + describe(el));
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!text || !el.getClientRects().length || style.visibility === 'hidden') continue;
    const fg = lum(parse(style.color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize), large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5))
      problems.push('contrast ' + ratio.toFixed(2) + ':1 of ' + describe(el) + ' "' + el.textContent.trim().slice(0, 30) + '"');
  }
  for (const [claim, wanted] of Object.entries(expected.figures)) {
    const readable = [...document.querySelectorAll('section#' + claim + ' figure img')].filter(img => {
      const box = img.getBoundingClientRect(), style = getComputedStyle(img);
      return img.complete && img.naturalWidth >= 100 && box.width >= 0.45 * img.naturalWidth && style.visibility !== 'hidden'
             && style.display !== 'none' && Number(style.opacity) > 0.5 && box.height > 50;
    });
    if (readable.length < wanted) problems.push('figure of ' + claim + ': ' + readable.length + ' shown at a readable size of ' + wanted);
  }
  for (const [outcome, count] of Object.entries(expected.counts)) {
    const shown = document.querySelector('[data-count="' + outcome + '"]');
    if (!shown || Number(shown.textContent) !== count)
      problems.push('count of ' + outcome + ': page says ' + (shown && shown.textContent) + ', verify ' + count);
  }
  const out = document.createElement('pre'); out.id = 'probe'; out.textContent = JSON.stringify(problems); document.body.appendChild(out);
});</script>"""


def page_problems(page: str, width: int, expected: dict, tmp_path: Path) -> list[str]:
    """What a real browser finds wrong with a report page at `width` px: a page wider than the
    window, a box that hides content with no way to scroll to it, text below WCAG AA contrast, a
    claim's figure missing, not loaded or shown too small to read, a count that is not verify's."""
    probed = tmp_path / f"probed-{width}.html"
    probed.write_text(page.replace("</body>", PROBE.replace("EXPECTED", json.dumps(expected)) + "</body>"))
    done = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                           f"--window-size={width},900", "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
                          capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout)
    assert found, done.stderr[-2000:]
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def rendered(store, tmp_path_factory):
    """The report page of the store, and what the browser check expects of it (verify's counts,
    the figures of each claim)."""
    assert BROWSER, "no headless Chromium on this machine (.ci/run installs chromium-headless-shell)"
    out = tmp_path_factory.mktemp("page")
    CliRunner().invoke(cli, ["report", str(store), "--out", str(out)])
    data = json.loads((out / "report.json").read_text())
    figures = {c["claim_id"]: sum(len(v["figures"]) for v in c["verdicts"]) for c in data["claims"]}
    return (out / "report.html").read_text(), {"counts": counts(verify_store(store)), "figures": {k: n for k, n in figures.items() if n}}


needs_browser = pytest.mark.skipif(BROWSER is None and not REQUIRE_BROWSER, reason="needs headless Chromium: apt-get install chromium-headless-shell")


@needs_browser
@pytest.mark.parametrize("width", [1280, 390])
def test_a_real_browser_finds_every_claims_figure_readable_every_count_verifys_all_text_legible_and_nothing_hidden(rendered, width, tmp_path):
    page, expected = rendered
    assert expected["figures"], "the store's claims rest on figures"
    assert page_problems(page, width, expected, tmp_path) == []


ONE_PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
def _styled(css: str):
    return lambda page: page.replace("</style>", css + "</style>")


BROKEN = {  # a page broken on purpose -> the width it is looked at, and what the check must say
    "the overview's verdicts clipped": (_styled(".scroll { overflow: hidden !important; } .overview { min-width: 1600px; }"), 1280, "hides content"),
    "every figure a 1x1 PNG": (lambda p: re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", f"data:image/png;base64,{ONE_PIXEL}", p), 1280,
                               "figure of"),
    "every figure hidden": (_styled("figure img { display: none; }"), 1280, "figure of"),
    "a page 960 px wide": (_styled("main { min-width: 960px; }"), 390, "page wider"),
    "every count 99": (lambda p: re.sub(r'(data-count="[a-z ]+">)\d+<', r"\g<1>99<", p), 1280, "count of"),
    "badges in light orange": (_styled(".badge { background: #ef6c00 !important; }"), 1280, "contrast"),
}


@needs_browser
@pytest.mark.parametrize("broken", list(BROKEN))
def test_the_browser_check_fails_on_a_page_broken_on_purpose(rendered, broken, tmp_path):
    page, expected = rendered
    breaking, width, problem = BROKEN[broken]
    assert breaking(page) != page
    assert any(problem in found for found in page_problems(breaking(page), width, expected, tmp_path)), broken


SUITE_SWEEPS = {
    "a.yaml": "name: tiny_a\nexperiment: manifold_classification\ngrid: {k: [3, 20], L: [0, 6]}\nseeds: [0, 1, 2]\n"
              "workload: {width: 8, depth: 2, n_points: 64, steps: 100, eval_every_steps: 50}\n",
    "b.yaml": "name: tiny_b\nexperiment: perturbation\ngrid: {delta: [0.0, 0.5, 1.0]}\nseeds: [0, 1, 2]\n"
              "workload: {frequencies: [2, 5], n_points: 32, width: 8, depth: 2, steps: 100, eval_every_steps: 50, directions: 4}\n",
    "suite.yaml": "name: tiny\ndescription: two tiny sweeps\nsweeps: [a.yaml, b.yaml]\n",
}


def test_reproduce_runs_a_suites_sweeps_together_then_judges_and_reports_and_running_it_again_resumes(local_ray, tmp_path):
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
