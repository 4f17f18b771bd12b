"""`sbsweep report`: one self-contained HTML page (and its JSON) that says whether the paper
reproduces in a store: how many verdicts hold, then each claim in the paper's order with its
statistic, interval, each seed's value, the figure drawn from the store, its notes and how
`decide` reached it, then where the numbers came from. No server, no network: figures embedded.

    STORE/report/report.html    the page (open it in any browser)
    STORE/report/report.json    the same, for machines; the previous one goes to report/history/

When the store holds an earlier report, the new one lists the verdicts that changed since.
"""

from __future__ import annotations

import base64
import html
import json
import platform
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from orchestrator import __version__
from orchestrator.paths import inside, regular_file
from orchestrator.provenance import code_version
from orchestrator.status import sweep_statuses
from orchestrator.store import check_store, drawn_figures, figures_folder, read_table
from orchestrator.store.files import write_atomic
from orchestrator.suite import suite_runs
from orchestrator.verify import CLAIMS, counts, verify_store
from results_schema import DECISIONS_DIR, LOOKS, REPORT_DIR, TRIALS, StoreError, TrialStatus
from workloads.claims import Verdict

PROVENANCE_COLUMNS = ["trial_id", "sweep", "status", "wall_s", "started_at", "device", "gpu_name", "torch_version", "code_version", "code_dirty"]
OUTCOMES = ("pass", "fail", "inconclusive", "unreplicated", "no data")
WORDS = {"pass": "reproduced", "fail": "failed", "inconclusive": "inconclusive", "unreplicated": "unreplicated", "no data": "no data"}


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


def _figures_of(store: Path, sweep: str, stem: str) -> list[str]:
    """The store's PNG figures of `sweep` drawn for a claim whose figure stem is `stem` (and the
    sweep's verdicts by axis), by file name."""
    names = drawn_figures(figures_folder(store), sweep)
    own = sorted(n for n in names if n.endswith(".png") and n.startswith(f"{stem}_{sweep}"))
    return own + [n for n in names if n == f"verdicts_{sweep}.png"]


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
    claims = []
    for claim in CLAIMS:
        entries = []
        for v in by_claim.get(claim.claim_id, []):
            entry = {k: value for k, value in v.as_dict().items() if k not in ("statement", "statistic", "series_label", "experiment")}
            mine = looks[(looks["claim_id"] == v.claim_id) & (looks["sweep"] == v.sweep) & (looks["grp"].fillna("") == (v.group or ""))] \
                if len(looks) else looks
            entry["looks"] = mine.sort_values(["run_id", "look"]).drop(columns=["decided_at"]).to_dict("records") if len(mine) else []
            entry["figures"] = _figures_of(store, v.sweep, claim.figure[1]) if v.sweep and claim.figure[1] else []
            entries.append(entry)
        claims.append({"claim_id": claim.claim_id, "experiment": claim.experiment, "statement": claim.statement, "statistic": claim.statistic,
                       "paper_figure": claim.figure[0], "threshold": f"{claim.comparison} {claim.threshold:g}", "verdicts": entries})
    commit, dirty = code_version()
    sweeps = []
    for standing in sweep_statuses(store):
        name = standing.sweep
        mine = trials[trials["sweep"] == name]
        ended = mine["started_at"] + pd.to_timedelta(mine["wall_s"].fillna(0), unit="s")
        sweeps.append({
            "sweep": name, "experiment": standing.experiment,
            "trials": {status.value: standing.counts.get(status, 0) for status in TrialStatus.storable()},
            "missing": standing.missing, "trial_s": float(mine["wall_s"].sum()),
            "first_start": None if mine["started_at"].isna().all() else str(mine["started_at"].min()),
            "last_end": None if ended.isna().all() else str(ended.max()),
        })
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
    previous, stamp = _earlier_report(earlier) if earlier.exists() else (None, "")
    data["changed"] = changes(previous, data)
    data["previous_report"] = previous.get("generated_at") if previous else None
    page = render(data, store)
    if out is None:
        folder.mkdir(exist_ok=True)
        if previous is not None:
            history = inside(store, folder / "history")
            history.mkdir(exist_ok=True)
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
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0; color: #1d2430; background: #f6f7f9; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 36px 0 6px; } h3 { font-size: 15px; margin: 16px 0 6px; }
p, li { line-height: 1.45; } .muted { color: #5d6778; } code { font-size: 13px; overflow-wrap: anywhere; }
.tally { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.tally div { background: white; border-radius: 8px; padding: 10px 16px; box-shadow: 0 1px 2px #0002; min-width: 110px; }
.tally b { display: block; font-size: 26px; }
.badge { display: inline-block; padding: 2px 9px; border-radius: 10px; color: white; font-size: 12px; font-weight: 600; }
.pass { background: #2e7d32; } .fail { background: #c62828; } .inconclusive { background: #ef6c00; }
.unreplicated { background: #6a1b9a; } .nodata { background: #78828f; }
.claim { background: white; border-radius: 10px; padding: 4px 20px 16px; margin: 18px 0; box-shadow: 0 1px 3px #0002; }
.verdict { border-top: 1px solid #e4e7ec; padding-top: 10px; margin-top: 10px; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 13px; } td, th { padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
img { max-width: 100%; height: auto; border: 1px solid #e4e7ec; border-radius: 6px; margin: 8px 0; }
.overview td { border-top: 1px solid #e4e7ec; padding: 5px 12px 5px 0; } .overview td:nth-child(2) { max-width: 420px; }
.note { font-size: 13px; color: #3d4656; overflow-wrap: anywhere; }
"""


def _badge(outcome: str) -> str:
    return f'<span class="badge {outcome.replace(" ", "")}">{html.escape(WORDS.get(outcome, outcome))}</span>'


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:+.3f}"


def _image(store: Path, name: str) -> str:
    path = regular_file(figures_folder(store) / name)
    if not path.is_file():
        return f'<p class="note">figure {html.escape(name)} is not in the store: <code>sbsweep plot</code> draws it</p>'
    encoded = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(name)}" src="data:image/png;base64,{encoded}">'


def _look_row(look: dict[str, Any]) -> str:
    low, high = look.get("low"), look.get("high")
    interval = "-" if low is None or pd.isna(low) else f"[{low:+.3f}, {high:+.3f}]"
    return (f"<tr><td>{look['look']}</td><td>{look['seeds']}</td><td>{_number(look['value'])}</td><td>{interval}</td>"
            f"<td>{100 * look['confidence']:.2f}%</td><td>{_badge(look['outcome'])}</td></tr>")


def _sweep_row(sweep: dict[str, Any]) -> str:
    trials = ", ".join(f"{n} {status}" for status, n in sweep["trials"].items() if n)
    if sweep.get("missing"):
        trials += f", {sweep['missing']} missing"
    started = (sweep["first_start"] or "-")[:19]
    return (f"<tr><td>{html.escape(sweep['sweep'])}</td><td>{html.escape(str(sweep['experiment']))}</td><td>{trials}</td>"
            f"<td>{sweep['trial_s'] / 60:.1f}</td><td>{html.escape(started)}</td></tr>")


def _where(v: dict[str, Any]) -> str:
    return (v.get("sweep") or "no sweep of its experiment in the store") + (f" ({v['group']})" if v.get("group") else "")


def _verdict(store: Path, v: dict[str, Any], shown: set[str]) -> str:
    where = html.escape(_where(v))
    if v.get("interval"):
        how = ", ".join(x for x in (f"look {v['look']}" if v.get("look") else "", v.get("method") or "") if x)
        low, high = v["interval"]
        interval = f"{100 * v.get('confidence', 0.95):.4g}% interval [{low:+.3f}, {high:+.3f}]" + (f" ({how})" if how else "")
    else:
        interval = "no interval"
    seeds = ", ".join("-" if x is None else f"{x:+.3f}" for x in v.get("per_seed") or [])
    parts = [f'<div class="verdict"><h3>{_badge(v["outcome"])} &nbsp;{where}</h3>']
    if v.get("value") is not None:
        agree = f"; {v['agreeing']} of {len([x for x in v.get('per_seed') or [] if x is not None])} seeds agree on their own" \
            if v.get("agreeing") is not None else ""
        parts.append(f"<p>statistic <b>{_number(v['value'])}</b>, {html.escape(interval)}, {v['seeds']} seeds, "
                     f"{v['trials']} trials{agree}; holds when {html.escape(v['comparison'])} {v['threshold']:g}</p>")
    if seeds:
        parts.append(f'<p class="note">each seed on its own: {html.escape(seeds)}</p>')
    series = ", ".join(f"{html.escape(str(k))}: {value:.4g}" for k, value in (v.get("series") or {}).items() if value is not None)
    if series:
        parts.append(f'<p class="note">behind it: {series}</p>')
    parts += [f'<p class="note">note: {html.escape(note)}</p>' for note in v.get("notes") or []]
    if v.get("looks"):
        rows = "".join(_look_row(look) for look in v["looks"])
        parts.append('<p class="note">how it was reached (sbsweep decide: a look after each round of added seeds):</p>'
                     f'<div class="scroll"><table><tr><th>look</th><th>seeds</th><th>value</th><th>interval</th><th>level</th>'
                     f"<th>outcome</th></tr>{rows}</table></div>")
    for name in v.get("figures") or []:
        if name not in shown:  # a figure several verdicts share is shown once, with the first
            shown.add(name)
            parts.append(_image(store, name))
    parts.append("</div>")
    return "".join(parts)


def _suite_session(run: dict[str, Any]) -> str:
    """One run of the suite, for the header: when, how long, how many trials it ran."""
    wall = run.get("wall_s") or run.get("launch_s")
    ran = run.get("trials_run")
    return (f"run {html.escape(str(run.get('started_at', '')))}" + (f" for {wall / 60:.1f} minutes" if wall else "")
            + (f" ({ran} trials run)" if isinstance(ran, int) else ""))


def render(data: dict[str, Any], store: Path) -> str:
    """The report as one HTML page, figures embedded."""
    summary = data["summary"]
    scale = data.get("scale")
    took = ""
    if scale:
        took = (f"suite <b>{html.escape(scale['name'])}</b> ({html.escape(scale.get('description') or '')}), "
                + "; ".join(_suite_session(run) for run in [*scale.get("earlier", []), scale]))
    else:
        took = "no suite run recorded: the sweeps were launched one by one"
    tally = "".join(f"<div><b>{summary[o]}</b>{_badge(o)}</div>" for o in OUTCOMES)
    overview = "".join(
        f'<tr><td><a href="#{c["claim_id"]}">{c["claim_id"]}</a></td><td>{html.escape(c["statement"])}</td><td>'
        + " ".join(f'{_badge(v["outcome"])} <span class="note">{html.escape(_where(v))}</span>' for v in c["verdicts"])
        + "</td></tr>" for c in data["claims"])
    shown: set[str] = set()
    claims = []
    for claim in data["claims"]:
        verdicts = "".join(_verdict(store, v, shown) for v in claim["verdicts"])
        claims.append(f'<section class="claim" id="{claim["claim_id"]}"><h2>{claim["claim_id"]}: {html.escape(claim["statement"])}</h2>'
                      f'<p class="muted">{html.escape(claim["paper_figure"])} &middot; statistic: {html.escape(claim["statistic"])} '
                      f'&middot; holds when {html.escape(claim["threshold"])}</p>{verdicts}</section>')
    changed = ""
    if data.get("changed"):
        rows = "".join(f"<tr><td><code>{html.escape(c['verdict'])}</code></td><td>{html.escape(c['before'])}</td>"
                       f"<td>{html.escape(c['after'])}</td></tr>" for c in data["changed"])
        changed = (f"<h2>Changed since the report of {html.escape(str(data.get('previous_report')))}</h2>"
                   f'<div class="scroll"><table><tr><th>verdict</th><th>before</th><th>now</th></tr>{rows}</table></div>')
    elif data.get("previous_report"):
        changed = f"<p class=\"muted\">No verdict changed since the report of {html.escape(str(data['previous_report']))}.</p>"
    p = data["provenance"]
    sweeps = "".join(_sweep_row(sweep) for sweep in p["sweeps"])
    code = f"{p['code_commit']}" + (" (uncommitted changes)" if p["code_dirty"] else "")
    provenance = (
        "<h2>Where these numbers come from</h2><div class=\"scroll\"><table>"
        f"<tr><td>sbsweep</td><td>{html.escape(p['sbsweep'])}, code {html.escape(code)}</td></tr>"
        f"<tr><td>trials ran code</td><td>{html.escape(', '.join(p['trial_code']) or '-')}"
        f"{' (some with uncommitted changes)' if p['trial_code_dirty'] else ''}</td></tr>"
        f"<tr><td>torch, Ray, Python</td><td>{html.escape(', '.join(p['torch']) or '-')}, {html.escape(str(p['ray']))}, "
        f"{html.escape(p['python'])}</td></tr>"
        f"<tr><td>devices</td><td>{html.escape(', '.join(f'{d}: {n} trials' for d, n in p['devices'].items()) or '-')}"
        f"{html.escape(' (' + ', '.join(p['gpus']) + ')') if p['gpus'] else ''}</td></tr>"
        f"<tr><td>store</td><td><code>{html.escape(data['store'])}</code></td></tr>"
        f"<tr><td>report</td><td>{html.escape(data['generated_at'])}</td></tr></table></div>"
        f"<h3>Sweeps</h3><div class=\"scroll\"><table><tr><th>sweep</th><th>experiment</th><th>trials</th><th>trial minutes</th>"
        f"<th>first trial</th></tr>{sweeps}</table></div>"
    )
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Does it reproduce? sbsweep report</title><style>{CSS}</style></head><body><main>"
        "<h1>On the Spectral Bias of Neural Networks: does it reproduce?</h1>"
        f"<p class=\"muted\">{took}. {summary['verdicts']} verdicts on {summary['claims']} claims; trials computed for "
        f"{p['trial_s'] / 60:.0f} minutes in all.</p><div class=\"tally\">{tally}</div>"
        "<p class=\"note\">A verdict is <b>reproduced</b> when the claim's statistic and its whole interval over the seeds lie on the "
        "claim's side of its threshold, <b>failed</b> when they lie on the other, <b>inconclusive</b> when the interval straddles it, "
        "<b>unreplicated</b> with fewer than 3 seeds (no interval), <b>no data</b> when the store has no sweep of the claim's experiment, "
        "or one too small to compute its statistic.</p>"
        f'<div class="scroll"><table class="overview"><tr><th>claim</th><th>statement</th><th>verdicts</th></tr>{overview}</table></div>'
        f"{changed}{''.join(claims)}{provenance}</main></body></html>"
    )
