"""`sbsweep report`: one self-contained HTML page (and its JSON) that says whether the paper
reproduces in a store: how many verdicts hold, then each claim in the paper's order with its
statistic, the interval at the level it was judged at, each seed's value, the figures it rests
on, its notes, how `decide` reached it and the lines that load its data, then what ran (every
sweep's resolved settings) and where the numbers come from. No server, no network: figures
embedded.

    STORE/report/report.html    the page (open it in any browser)
    STORE/report/report.json    the same, for machines
    STORE/report/history/       earlier reports, page and data, named by their time (UTC)

When the store holds an earlier report, the new one lists the verdicts that changed since.
"""

from __future__ import annotations

import base64
import html
import json
import platform
import re
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from orchestrator import __version__
from orchestrator.paths import inside, regular_file
from orchestrator.provenance import code_version
from orchestrator.spec import RESOLVED_KEY
from orchestrator.status import sweep_statuses
from orchestrator.store import check_store, drawn_figures, figures_folder, prepared_info, read_table, saved_sweep
from orchestrator.store.files import write_atomic
from orchestrator.suite import suite_runs
from orchestrator.verify import CLAIMS, counts, verify_store
from results_schema import DECISIONS_DIR, LOOKS, REPORT_DIR, TRIALS, StoreError, TrialStatus
from workloads import REGISTRY
from workloads.claims import Verdict

PROVENANCE_COLUMNS = ["trial_id", "sweep", "seed", "status", "wall_s", "started_at", "device", "gpu_name", "torch_version", "code_version",
                      "code_dirty", "prepared_id"]
OUTCOMES = ("pass", "fail", "inconclusive", "unreplicated", "no data")
WORDS = {"pass": "reproduced", "fail": "failed", "inconclusive": "inconclusive", "unreplicated": "unreplicated", "no data": "no data",
         "absent": "absent"}


def _package(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _key(verdict: dict[str, Any]) -> str:
    return f"{verdict['claim_id']} | {verdict.get('sweep') or '-'} | {verdict.get('group') or '-'}"


def _looks(store: Path) -> pd.DataFrame:
    """Every decide run's looks (STORE/decisions/*.parquet); a file that is not such a table is
    one line naming it."""
    import pyarrow.parquet as pq

    folder = inside(store, store / DECISIONS_DIR)
    files = [regular_file(p) for p in sorted(folder.glob("*.parquet"))] if folder.is_dir() else []
    tables = []
    for path in files:
        try:
            table = pq.read_table(path)
            tables.append(table.select(list(LOOKS.column_names)).cast(LOOKS.schema).to_pandas())
        except (OSError, ValueError, KeyError, TypeError) as error:  # pyarrow's errors derive from these
            raise StoreError(f"{path}: not a table of decide's looks ({type(error).__name__}: {str(error).splitlines()[0][:120]}); "
                             "move it away and run the report again") from None
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def _first_paragraph(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _caption(experiment: str, name: str, sweep: str, paper_figure: str) -> str:
    """What a figure of the store shows, from the docstring of the code that drew it."""
    from workloads import plots

    if name.startswith("verdicts_"):
        return ("Each claim's verdict on this sweep: " + _first_paragraph(plots.verdicts_by_axis.__doc__).split(". `verdicts`")[0]).rstrip(".") + "."
    entry = REGISTRY.get(experiment)
    doc = _first_paragraph(entry.figure.draw.__doc__) if entry is not None else ""
    return (f"{paper_figure}: " if paper_figure and not doc.startswith(paper_figure) else "") + (doc or f"a figure of {experiment}")


def _inputs(store: Path, experiment: str, sweep: str) -> str:
    """The pandas lines that load a sweep's inputs to its claims."""
    entry = REGISTRY.get(experiment)
    tables = [TRIALS.name, experiment, *(t.name for t in entry.tables)] if entry is not None else [TRIALS.name]
    lines = ["from orchestrator import ResultStore", f"store = ResultStore({str(store)!r})"]
    lines += [f"{name} = store.table({name!r}, sweep={sweep!r})" for name in dict.fromkeys(tables)]
    return "\n".join(lines)


def _sweep_entry(store: Path, standing: Any, trials: pd.DataFrame, figures: list[str], shown: set[str]) -> dict[str, Any]:
    """What ran in one sweep: its resolved settings, its trials by status, their minutes and
    devices, its preparations, and the figures no claim shows."""
    name = standing.sweep
    mine = trials[trials["sweep"] == name]
    ended = mine["started_at"] + pd.to_timedelta(mine["wall_s"].fillna(0), unit="s")
    settings = saved_sweep(store, name) or {}
    prepared = sorted(set(mine["prepared_id"].dropna()))
    infos = [prepared_info(store, pid) for pid in prepared]
    return {
        "sweep": name, "experiment": standing.experiment,
        "settings": {**{key: settings.get(key) for key in ("description", "grid", "seeds", "workload", "overrides", "resources", "execution",
                                                           "experiment_version") if key in settings},
                     "resolved": settings.get(RESOLVED_KEY) or {}},
        "trials": {status.value: standing.counts.get(status, 0) for status in TrialStatus.storable()},
        "missing": standing.missing, "trial_s": float(mine["wall_s"].sum()),
        "prepared": len(prepared), "preparation_s": float(sum(info.get("wall_s") or 0.0 for info in infos)),
        "devices": {str(k): int(v) for k, v in mine.groupby(mine["device"].fillna("none"))["trial_id"].count().items()} if len(mine) else {},
        "first_start": None if mine["started_at"].isna().all() else str(mine["started_at"].min()),
        "last_end": None if ended.isna().all() else str(ended.max()),
        "data": _inputs(store, str(standing.experiment), name),
        "other_figures": [{"name": n, "sweep": name, "caption": _caption(str(standing.experiment), n, name, ""),
                           "alt": f"{n.removesuffix('.png')}: a figure of sweep {name}"} for n in figures if n.endswith(".png") and n not in shown],
    }


def build(store: Path) -> dict[str, Any]:
    """The report's content, as JSON-able data."""
    check_store(store)
    verdicts = verify_store(store)
    trials = read_table(store, TRIALS, columns=PROVENANCE_COLUMNS)
    looks = _looks(store)
    runs = suite_runs(store)
    by_claim: dict[str, list[Verdict]] = {}
    for v in verdicts:
        by_claim.setdefault(v.claim_id, []).append(v)
    standings = sweep_statuses(store)
    drawn = {standing.sweep: drawn_figures(figures_folder(store), standing.sweep) for standing in standings}  # each record read once
    shown: set[str] = set()
    claims = []
    for claim in CLAIMS:
        entries = []
        for v in by_claim.get(claim.claim_id, []):
            entry = {k: value for k, value in v.as_dict().items() if k not in ("statement", "statistic", "experiment")}
            mine = looks[(looks["claim_id"] == v.claim_id) & (looks["sweep"] == v.sweep) & (looks["grp"].fillna("") == (v.group or ""))] \
                if len(looks) else looks
            entry["looks"] = mine.sort_values(["run_id", "look"]).drop(columns=["decided_at"]).to_dict("records") if len(mine) else []
            ok = trials[(trials["sweep"] == v.sweep) & (trials["status"] == TrialStatus.OK.value)] if v.sweep else trials.iloc[:0]
            entry["seed_ids"] = sorted(int(s) for s in set(ok["seed"].dropna()))
            names = drawn.get(v.sweep, []) if v.sweep and claim.figure[1] else []
            own = sorted(n for n in names if n.endswith(".png") and n.startswith(f"{claim.figure[1]}_{v.sweep}"))
            shown |= set(own)
            entry["figures"] = [{"name": n, "sweep": v.sweep, "caption": _caption(claim.experiment, n, v.sweep, claim.figure[0]),
                                 "alt": f"{claim.figure[0]} as drawn from sweep {v.sweep} ({n.removesuffix('.png')})"} for n in own]
            entry["inputs"] = _inputs(store, claim.experiment, v.sweep) if v.sweep else ""
            entries.append(entry)
        claims.append({"claim_id": claim.claim_id, "experiment": claim.experiment, "statement": claim.statement, "statistic": claim.statistic,
                       "paper_figure": claim.figure[0], "threshold": f"{claim.comparison} {claim.threshold:g}", "verdicts": entries})
    commit, dirty = code_version()
    sweeps = [_sweep_entry(store, standing, trials, drawn[standing.sweep], shown) for standing in standings]
    devices = trials.groupby(trials["device"].fillna("none"))["trial_id"].count().to_dict() if len(trials) else {}
    gpus = sorted(set(trials["gpu_name"].dropna())) if "gpu_name" in trials else []
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "store": str(store.resolve()),
        "summary": {**counts(verdicts), "verdicts": len(verdicts), "claims": len(CLAIMS)},
        "scale": runs[0] if runs else None,
        "claims": claims,
        "provenance": {
            "sbsweep": __version__, "code_commit": commit, "code_dirty": dirty, "python": platform.python_version(),
            "torch": sorted(set(trials["torch_version"].dropna())) if len(trials) else [], "ray": _package("ray"),
            "trial_code": sorted(set(trials["code_version"].dropna())) if len(trials) else [],
            "trial_code_dirty": bool(trials["code_dirty"].fillna(False).any()) if len(trials) else False,
            "devices": {str(k): int(v) for k, v in devices.items()}, "gpus": gpus, "sweeps": sweeps,
            "trial_s": float(trials["wall_s"].sum()) if len(trials) else 0.0,
        },
    }


def changes(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[dict[str, Any]]:
    """The verdicts whose outcome differs from the earlier report's (new and gone ones too)."""
    if previous is None:
        return []

    def outcomes(data: dict[str, Any]) -> dict[str, str]:
        return {_key(v): v["outcome"] for claim in data.get("claims", []) for v in claim.get("verdicts", [])}
    before, after = outcomes(previous), outcomes(current)
    return [{"verdict": key, "before": before.get(key, "absent"), "after": after.get(key, "absent")}
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]


def _earlier_report(path: Path) -> tuple[dict[str, Any], str]:
    """The store's earlier report.json and the stamp its copy in report/history is named by (its
    time, UTC, as digits: nothing a crafted file says can make it a path); StoreError (one line,
    naming the file) for anything that is not a report sbsweep wrote."""
    def foreign(why: str) -> StoreError:
        return StoreError(f"{path}: not a report sbsweep wrote ({why}); move it away and run the report again")

    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise foreign(f"{type(error).__name__}: {error}") from None
    if not isinstance(previous, dict):
        raise foreign(f"a JSON {type(previous).__name__}, not an object")
    claims = previous.get("claims", [])
    if not isinstance(claims, list) or not all(isinstance(c, dict) and isinstance(c.get("verdicts", []), list) for c in claims):
        raise foreign("'claims' is not a list of claims with lists of verdicts")
    if not all(isinstance(v, dict) and isinstance(v.get("claim_id"), str) and isinstance(v.get("outcome"), str)
               for c in claims for v in c.get("verdicts", [])):
        raise foreign("a verdict without a claim_id or an outcome")
    try:
        written = previous.get("generated_at")
        if not (isinstance(written, str) and written.isprintable()):
            raise ValueError(written)
        when = datetime.fromisoformat(written)
    except ValueError:
        raise foreign(f"generated_at {str(previous.get('generated_at'))[:40]!r} is not a time") from None
    if when.tzinfo is None:
        raise foreign("generated_at has no time zone")
    return previous, f"{when.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def write(store: Path, out: Path | None = None) -> tuple[Path, Path, dict[str, Any]]:
    """Build the report and write report.html and report.json into STORE/report (or into `out`, a
    folder the user names); the store's earlier report.json is kept in report/history/ and
    compared with. Returns the two paths and the data."""
    folder = inside(store, store / REPORT_DIR)
    data = build(store)
    earlier = regular_file(folder / "report.json")
    earlier_page = regular_file(folder / "report.html")
    previous, stamp = _earlier_report(earlier) if earlier.exists() else (None, "")
    data["changed"] = changes(previous, data)
    data["previous_report"] = previous.get("generated_at") if previous else None
    data["json"] = str((out if out is not None else folder) / "report.json")
    page = render(data, store)
    if out is None:
        folder.mkdir(exist_ok=True)
        if previous is not None:  # kept whole: its data, and its page where there is one
            history = inside(store, folder / "history")
            history.mkdir(exist_ok=True)
            if earlier_page.is_file():
                write_atomic(store, regular_file(inside(store, history / f"report-{stamp}.html")), earlier_page.read_bytes())
            write_atomic(store, regular_file(inside(store, history / f"report-{stamp}.json")), earlier.read_bytes())
        html_path, json_path = regular_file(folder / "report.html"), regular_file(folder / "report.json")
        write_atomic(store, html_path, page.encode())
        write_atomic(store, json_path, json.dumps(data, indent=1, default=str).encode())
    else:
        out.mkdir(parents=True, exist_ok=True)
        html_path, json_path = out / "report.html", out / "report.json"
        html_path.write_text(page)
        json_path.write_text(json.dumps(data, indent=1, default=str))
    return html_path, json_path, data


# --- the page -------------------------------------------------------------------------------------

CSS = """
:root { --text: #1d2430; --muted: #4a5363; --bg: #f6f7f9; --card: #ffffff; --line: #d5dae1; --link: #1a56b0; --code: #eef1f5; }
@media (prefers-color-scheme: dark) {
  :root { --text: #e6e9ee; --muted: #b4bcc8; --bg: #12161c; --card: #1c222b; --line: #3a4452; --link: #8cb8ff; --code: #262e39; }
  img { background: #ffffff; }
}
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0; color: var(--text); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 20px 16px 60px; }
a { color: var(--link); }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 32px 0 6px; } h3 { font-size: 16px; margin: 14px 0 6px; }
h4 { font-size: 14px; margin: 12px 0 4px; }
p, li { line-height: 1.45; } .muted { color: var(--muted); }
code, pre { font-size: 13px; background: var(--code); border-radius: 4px; }
code { overflow-wrap: anywhere; padding: 0 3px; } pre { padding: 8px 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
nav { background: var(--card); border-radius: 8px; padding: 8px 14px; margin: 12px 0; }
nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 14px; }
.tally { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.tally div { background: var(--card); border-radius: 8px; padding: 8px 14px; box-shadow: 0 1px 2px #0003; min-width: 100px; }
.tally b { display: block; font-size: 26px; }
.badge { display: inline-block; padding: 2px 9px; border-radius: 10px; color: #ffffff; font-size: 13px; font-weight: 600; }
.pass { background: #22702a; } .fail { background: #b71c1c; } .inconclusive { background: #9a4a00; }
.unreplicated { background: #6a1b9a; } .nodata { background: #4b5563; }
.claim, .card { background: var(--card); border-radius: 10px; padding: 4px 18px 14px; margin: 18px 0; box-shadow: 0 1px 3px #0003; }
.verdict { border-top: 1px solid var(--line); padding-top: 8px; margin-top: 10px; }
.scroll { overflow-x: auto; max-width: 100%; scrollbar-width: thin; scrollbar-color: var(--muted) transparent;
  background: linear-gradient(to right, var(--card) 30%, transparent), linear-gradient(to left, var(--card) 30%, transparent) 100% 0,
              linear-gradient(to right, #0003, transparent 12px), linear-gradient(to left, #0003, transparent 12px) 100% 0;
  background-repeat: no-repeat; background-size: 40px 100%, 40px 100%, 14px 100%, 14px 100%;
  background-attachment: local, local, scroll, scroll; }
.scroll::-webkit-scrollbar { height: 10px; } .scroll::-webkit-scrollbar-thumb { background: var(--muted); border-radius: 5px; }
.hint { font-size: 13px; color: var(--muted); margin: 2px 0 0; }
table { border-collapse: collapse; font-size: 13px; }
td, th { padding: 4px 12px 4px 0; text-align: left; vertical-align: top; border-top: 1px solid var(--line); }
thead th { border-top: none; border-bottom: 2px solid var(--line); }
.overview td:nth-child(2) { min-width: 220px; max-width: 420px; }
figure { margin: 10px 0; } figcaption { font-size: 13px; color: var(--muted); line-height: 1.4; }
figure img { display: block; max-width: none; height: auto; border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; }
figure:target img { width: auto !important; }
.note { font-size: 14px; overflow-wrap: anywhere; }
.filters button { font: inherit; font-size: 13px; margin: 2px; padding: 3px 10px; border-radius: 12px; border: 1px solid var(--line);
  background: var(--card); color: var(--text); cursor: pointer; }
.filters button[aria-pressed="true"] { background: var(--text); color: var(--card); }
[hidden] { display: none !important; }
@media (max-width: 600px) { main { padding: 12px 10px 40px; } .claim, .card { padding: 4px 10px 12px; } h1 { font-size: 22px; } }
@media print {
  body { background: #ffffff; color: #000000; } nav, .filters, .hint { display: none; }
  .claim, .card { box-shadow: none; border: 1px solid #999999; break-inside: avoid-page; page-break-inside: avoid; }
  .scroll { overflow: visible; background: none; } figure img { width: 100% !important; max-width: 100% !important; }
  figure, table { break-inside: avoid; }
}
"""

SCRIPT = """
document.querySelectorAll('.filters button').forEach(button => button.addEventListener('click', () => {
  const outcome = button.dataset.outcome;
  document.querySelectorAll('.filters button').forEach(b => b.setAttribute('aria-pressed', String(b === button)));
  document.querySelectorAll('section.claim').forEach(section => {
    section.hidden = outcome !== 'all' && !section.querySelector('.verdict[data-outcome="' + outcome + '"]');
  });
}));
"""


def _badge(outcome: str) -> str:
    return f'<span class="badge {outcome.replace(" ", "")}">{html.escape(WORDS.get(outcome, outcome))}</span>'


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:+.3f}"


def _plain(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.4g}"


def _slug(text: str) -> str:
    """An id for an anchor: letters, digits, '_' and '-' only."""
    return re.sub(r"[^A-Za-z0-9_]+", "-", text).strip("-")


def _when(stamp: Any) -> str:
    """A time as 'YYYY-MM-DD HH:MM UTC'."""
    if stamp is None or (isinstance(stamp, float) and pd.isna(stamp)):
        return "-"
    try:
        when = pd.Timestamp(stamp)
    except (ValueError, TypeError):
        return str(stamp)
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    return f"{when:%Y-%m-%d %H:%M} UTC"


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.1f} minute{'' if round(minutes, 1) == 1 else 's'}"


def _png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG from its header; (0, 0) if it is not one."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return 0, 0
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


FIGURE_SCALE = 0.5
"""A figure is never shown smaller than this share of its pixels (drawn at 150 dpi, its tick
labels stay about 7 px tall or more); a wider one scrolls sideways in its box."""


def _figure(store: Path, figure: dict[str, Any], anchor: str, cache: dict[str, tuple[str, int]]) -> str:
    """A figure of the store embedded, with its caption; a click shows it at full resolution.
    `cache`: each figure's bytes (base64) and pixel width, read once however many sections show it."""
    name = figure["name"]
    if name not in cache:
        path = regular_file(figures_folder(store) / name)
        if not path.is_file():
            return f'<p class="note">figure {html.escape(name)} is not in the store: <code>sbsweep plot</code> draws it</p>'
        data = path.read_bytes()
        cache[name] = base64.b64encode(data).decode(), _png_size(data)[0]
    encoded, width = cache[name]
    size = f"width: max(min(100%, {width}px), {int(width * FIGURE_SCALE)}px)" if width else "max-width: 100%"
    return (f'<figure id="{anchor}"><div class="scroll"><a href="#{anchor}" title="show at full resolution">'
            f'<img alt="{html.escape(figure["alt"])}" style="{size}" src="data:image/png;base64,{encoded}"></a></div>'
            '<p class="hint">Click the figure to show it at full resolution; where it is wider than the page, scroll it sideways.</p>'
            f'<figcaption>{html.escape(figure["caption"])} <code>{html.escape(name)}</code>, drawn from sweep '
            f'<a href="#sweep-{_slug(figure["sweep"])}">{html.escape(figure["sweep"])}</a>.</figcaption></figure>')


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    """A table (cells already HTML) in a box that scrolls sideways when it is wider than the page."""
    header = "".join(f'<th scope="col">{h}</th>' for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    classes = f' class="{cls}"' if cls else ""
    return f'<div class="scroll"><table{classes}><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>'


def _look_row(look: dict[str, Any]) -> list[str]:
    low, high = look.get("low"), look.get("high")
    interval = "-" if low is None or pd.isna(low) else f"[{low:+.3f}, {high:+.3f}]"
    return [str(look["look"]), str(look["seeds"]), _number(look["value"]), interval, f"{100 * look['confidence']:.2f}%", _badge(look["outcome"])]


def _where(v: dict[str, Any]) -> str:
    return (v.get("sweep") or "no sweep of its experiment in the store") + (f" ({v['group']})" if v.get("group") else "")


def _series(v: dict[str, Any]) -> str:
    """The values behind the statistic, with their label and units, 'never' where one never crossed."""
    never = {str(k) for k in v.get("never_crossed") or []}
    label = v.get("series_label") or ""
    axis = label.rsplit(", by ", 1)[1] if ", by " in label else ""
    items = []
    for key, value in (v.get("series") or {}).items():
        if value is None:
            continue
        name = f"{axis} = {key}" if axis and axis not in ("pair of seeds", "classifier", "inputs", "step", "target noise") else str(key)
        items.append(f"{name}: never reaches 0.5 (counted as {_plain(value)})" if str(key) in never else f"{name}: {_plain(value)}")
    return f"{label}: {'; '.join(items)}" if items else ""


def _seed_values(v: dict[str, Any]) -> str:
    values = v.get("per_seed") or []
    seeds = v.get("seed_ids") or []
    named = [f"seed {s}" for s in seeds] if len(seeds) == len(values) else [f"seed #{i + 1}" for i in range(len(values))]
    return "; ".join(f"{name}: {'undefined' if x is None else f'{x:+.3f}'}" for name, x in zip(named, values))


def verdict_anchor(v: dict[str, Any]) -> str:
    """The id of a verdict's article (and the changes table's link to it)."""
    return "v-" + _slug(_key(v))


def _why_outcome(v: dict[str, Any]) -> str:
    """The way this verdict came to its outcome, in the legend's words."""
    if v.get("premise_failed"):
        return f"failed on its premise: {v['premise_failed']}"
    if v["outcome"] == "fail" and v.get("value") is None:
        return "failed: its statistic is undefined on this sweep (see the notes)"
    if v.get("unresolved"):
        return "inconclusive: the data cannot resolve the claim at their resolution"
    if v["outcome"] == "no data":
        return "no data: " + ("no sweep of its experiment in the store" if not v.get("sweep") else "too little of the sweep to compute the statistic")
    return ""


def _verdict(store: Path, v: dict[str, Any], cache: dict[str, tuple[str, int]]) -> str:
    where = html.escape(_where(v))
    level = f"{100 * v.get('confidence', 0.95):.4g}%"
    judged = f"judged at {level}" + (f", look {v['look']}" if v.get("look") else "") + (f", {v['method']}" if v.get("method") else "")
    parts = [f'<article class="verdict" id="{verdict_anchor(v)}" data-outcome="{html.escape(v["outcome"])}">'
             f'<h3>{_badge(v["outcome"])} {where} <a href="#{verdict_anchor(v)}" aria-label="link to this verdict">#</a></h3>']
    why = _why_outcome(v)
    if why:
        parts.append(f'<p class="note"><b>{html.escape(why)}</b></p>')
    if v.get("value") is not None:
        interval = (f"{level} interval [{v['interval'][0]:+.3f}, {v['interval'][1]:+.3f}] ({html.escape(judged)})" if v.get("interval")
                    else f"no interval ({v['seeds']} seed{'s' if v['seeds'] != 1 else ''}: an interval needs 3)")
        defined = len([x for x in v.get("per_seed") or [] if x is not None])
        agree = f"; {v['agreeing']} of {defined} seeds agree on their own" if v.get("agreeing") is not None else ""
        parts.append(f"<p>statistic <b>{_number(v['value'])}</b>, {interval}, {v['seeds']} seeds, {v['trials']} trials{agree}; "
                     f"holds when {html.escape(v['comparison'])} {v['threshold']:g}</p>")
    seeds = _seed_values(v)
    if seeds:
        parts.append(f'<p class="note">each seed on its own: {html.escape(seeds)}</p>')
    series = _series(v)
    if series:
        parts.append(f'<p class="note">behind it: {html.escape(series)}</p>')
    parts += [f'<p class="note">note: {html.escape(note)}</p>' for note in v.get("notes") or []]
    if v.get("looks"):
        parts.append('<h4>How it was reached</h4><p class="note">sbsweep decide: a look after each round of added seeds, each at its own '
                     "level; the verdict above is the last look's.</p>"
                     + _table(["look", "seeds", "value", "interval", "level", "outcome"], [_look_row(look) for look in v["looks"]]))
    for index, figure in enumerate(v.get("figures") or []):
        parts.append(_figure(store, figure, f"f-{verdict_anchor(v)}-{index}", cache))
    if v.get("inputs"):
        parts.append("<h4>Its data</h4>" + f'<pre><code>{html.escape(v["inputs"])}</code></pre>')
    parts.append("</article>")
    return "".join(parts)


def _suite_session(run: dict[str, Any]) -> str:
    """One run of the suite, for the header: when, how long, how many trials it ran."""
    wall = run.get("wall_s") or run.get("launch_s")
    ran = run.get("trials_run")
    return (f"run {html.escape(_when(run.get('started_at')))}" + (f" for {_minutes(wall)}" if wall else "")
            + (f" ({ran} trials run)" if isinstance(ran, int) else ""))


def _value(value: Any) -> str:
    return html.escape(json.dumps(value, default=str) if not isinstance(value, str) else value)


def _sweep_section(sweep: dict[str, Any], store: Path, cache: dict[str, tuple[str, int]]) -> str:
    name = sweep["sweep"]
    trials = ", ".join(f"{n} {status}" for status, n in sweep["trials"].items() if n) or "none"
    if sweep.get("missing"):
        trials += f", {sweep['missing']} missing"
    settings = sweep.get("settings") or {}
    rows = [["experiment", html.escape(str(sweep["experiment"]))]]
    if settings.get("description"):
        rows.append(["description", html.escape(settings["description"])])
    for key in ("grid", "seeds"):
        if key in settings:
            rows.append([key, f"<code>{_value(settings[key])}</code>"])
    rows.append(["overrides (--set)", f"<code>{_value(settings.get('overrides'))}</code>" if settings.get("overrides") else "none recorded"])
    for key, value in sorted((settings.get("resolved") or {}).items()):
        rows.append([f"workload: {html.escape(key)}", f"<code>{_value(value)}</code>"])
    rows += [["trials", html.escape(trials)],
             ["trial time", _minutes(sweep["trial_s"])],
             ["preparation time", _minutes(sweep["preparation_s"]) + f" ({sweep['prepared']} shared state(s), e.g. theta*)"
              if sweep.get("prepared") else "none (no shared state to prepare)"],
             ["devices", html.escape(", ".join(f"{d}: {n} trials" for d, n in sweep.get("devices", {}).items()) or "-")],
             ["ran", f"{html.escape(_when(sweep.get('first_start')))} to {html.escape(_when(sweep.get('last_end')))}"],
             ["its data", f"<code>{html.escape(sweep['data'])}</code>"]]
    figures = "".join(_figure(store, figure, f"f-other-{_slug(figure['name'])}", cache) for figure in sweep.get("other_figures", []))
    return (f'<section class="sweep" id="sweep-{_slug(name)}"><h3>Sweep {html.escape(name)}</h3>'
            + _table(["setting", "value"], rows) + (f"<h4>Its other figures</h4>{figures}" if figures else "") + "</section>")


LEGEND = (
    "<p class=\"note\">How to read a verdict: it is <b>reproduced</b> when the claim's statistic and its whole interval over the seeds "
    "lie on the claim's side of its threshold. It <b>failed</b> when they lie on the other side, or when the claim's premise does not "
    "hold on the sweep (for example nets that do not fit their points), or when its statistic is undefined on the sweep (for example "
    "every value equal, or none crossing), whatever its interval. It is <b>inconclusive</b> when the interval straddles the threshold, "
    "or when the data cannot resolve the claim at their resolution. It is <b>unreplicated</b> with fewer than 3 seeds (no interval). "
    "It has <b>no data</b> when the store has no sweep of the claim's experiment, or too little of one to compute the statistic "
    "(too few grid values or seeds). Each verdict is judged at its look's "
    "level: 97.5% for the first set of trials, then stricter with each later set (95% overall).</p>"
)


def render(data: dict[str, Any], store: Path) -> str:
    """The report as one HTML page, figures embedded, nothing fetched."""
    summary = data["summary"]
    scale = data.get("scale")
    if scale:
        took = (f"Suite <b>{html.escape(scale['name'])}</b> ({html.escape(scale.get('description') or '')}): "
                + "; ".join(_suite_session(run) for run in [*scale.get("earlier", []), scale]))
    else:
        took = "No suite run recorded: the sweeps were launched one by one"
    p = data["provenance"]
    tally = "".join(f'<div><b data-count="{o}">{summary[o]}</b>{_badge(o)}</div>' for o in OUTCOMES)
    overview = _table(["claim", "statement", "verdicts"], [
        [f'<a href="#{c["claim_id"]}">{c["claim_id"]}</a>', html.escape(c["statement"]),
         "<br>".join(f'<a href="#{verdict_anchor(v)}">{_badge(v["outcome"])}</a> <span class="note">{html.escape(_where(v))}</span>'
                     for v in c["verdicts"])] for c in data["claims"]], "overview")
    cache: dict[str, tuple[str, int]] = {}
    claims = []
    for claim in data["claims"]:
        verdicts = "".join(_verdict(store, v, cache) for v in claim["verdicts"])
        claims.append(f'<section class="claim" id="{claim["claim_id"]}"><h2>{claim["claim_id"]}: {html.escape(claim["statement"])} '
                      f'<a href="#{claim["claim_id"]}" aria-label="link to claim {claim["claim_id"]}">#</a></h2>'
                      f'<p class="muted">{html.escape(claim["paper_figure"])} &middot; statistic: {html.escape(claim["statistic"])} '
                      f'&middot; holds when {html.escape(claim["threshold"])}</p>{verdicts}</section>')
    changed = ""
    if data.get("changed"):
        rows = [[f'<a href="#v-{_slug(c["verdict"])}"><code>{html.escape(c["verdict"])}</code></a>',
                 html.escape(WORDS.get(c["before"], c["before"])), html.escape(WORDS.get(c["after"], c["after"]))] for c in data["changed"]]
        changed = (f'<section class="card" id="changed"><h2>Changed since the report of {html.escape(_when(data.get("previous_report")))} '
                   '<a href="#changed" aria-label="link to the changes">#</a></h2>'
                   + _table(["verdict", "before", "now"], rows)
                   + '<p class="note">The earlier report, page and data, is kept whole in <code>report/history/</code>.</p></section>')
    elif data.get("previous_report"):
        changed = (f'<section class="card" id="changed"><p class="muted">No verdict changed since the report of '
                   f'{html.escape(_when(data["previous_report"]))}.</p></section>')
    sweeps = "".join(_sweep_section(sweep, store, cache) for sweep in p["sweeps"])
    code = f"{p['code_commit']}" + (" (uncommitted changes)" if p["code_dirty"] else "")
    provenance = _table(["what", "value"], [
        ["sbsweep", f"{html.escape(p['sbsweep'])}, code {html.escape(code)}"],
        ["trials ran code", html.escape(", ".join(p["trial_code"]) or "-") + (" (some with uncommitted changes)" if p["trial_code_dirty"] else "")],
        ["torch, Ray, Python", f"{html.escape(', '.join(p['torch']) or '-')}, {html.escape(str(p['ray']))}, {html.escape(p['python'])}"],
        ["devices", html.escape(", ".join(f"{d}: {n} trials" for d, n in p["devices"].items()) or "-")
         + (html.escape(" (" + ", ".join(p["gpus"]) + ")") if p["gpus"] else "")],
        ["store", f"<code>{html.escape(data['store'])}</code>"],
        ["this report", f"{html.escape(_when(data['generated_at']))}; its data: <code>{html.escape(data['json'])}</code>"],
    ])
    nav = "".join(f'<li><a href="#{c["claim_id"]}">{c["claim_id"]}</a></li>' for c in data["claims"])
    nav += '<li><a href="#changed">changes</a></li>' if changed else ""
    nav += '<li><a href="#what-ran">what ran</a></li><li><a href="#data">the data</a></li>'
    filters = "".join(f'<button type="button" data-outcome="{o}" aria-pressed="false">{html.escape(WORDS[o])}</button>' for o in OUTCOMES)
    total_prep = sum(sweep.get("preparation_s", 0.0) for sweep in p["sweeps"])
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta name=\"color-scheme\" content=\"light dark\">"
        f"<title>Does it reproduce? sbsweep report</title><style>{CSS}</style></head><body><main>"
        "<header><h1>On the Spectral Bias of Neural Networks: does it reproduce?</h1>"
        f"<p class=\"muted\">{took}. {summary['verdicts']} verdicts on {summary['claims']} claims; "
        f"{_minutes(p['trial_s'])} of trials and {_minutes(total_prep)} of preparation in all.</p></header>"
        f"<div class=\"tally\">{tally}</div>{LEGEND}"
        f'<nav aria-label="claims"><ul>{nav}</ul></nav>'
        f'<div class="filters" role="group" aria-label="show claims with a verdict that is">'
        f'<button type="button" data-outcome="all" aria-pressed="true">all</button>{filters}</div>'
        f'<section class="card" id="overview"><h2>Every claim</h2>{overview}</section>{changed}{"".join(claims)}'
        f'<section class="card" id="what-ran"><h2>What ran <a href="#what-ran" aria-label="link to what ran">#</a></h2>{sweeps}</section>'
        f'<section class="card" id="data"><h2>Where the numbers come from <a href="#data" aria-label="link to the data">#</a></h2>{provenance}'
        f"<p class=\"note\">Every number on this page is in <code>{html.escape(data['json'])}</code>. The trials' rows are Parquet tables "
        f"in <code>{html.escape(data['store'])}</code>, one folder per table and sweep (<code>trials/&lt;sweep&gt;/</code>, "
        "<code>curves/&lt;sweep&gt;/</code>, ...); each verdict above shows the lines that load its inputs with pandas.</p></section>"
        f"</main><script>{SCRIPT}</script></body></html>"
    )
