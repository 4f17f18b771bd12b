"""`sbsweep verify`: the paper's claims hold on a store built to show them, and each fails, by
name, on a store built to break it. The stores are real Parquet written through the store's own
writer; only the numbers in them are made up, shaped after each claim."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from orchestrator.cli import cli
from orchestrator.rows import concat_tables
from orchestrator.store import open_store, write_flush, write_trial
from orchestrator.verify import CLAIMS, verify_store
from results_schema import TRIALS, to_arrow
from tests.conftest import snapshot, verdicts_of
from workloads import REGISTRY, TABLES
from workloads.claims import spearman
from workloads.config import to_data

FREQUENCIES = (5, 10, 15, 20, 25, 30, 35, 40, 45, 50)
SEEDS = (0, 1, 2)  # the fewest an interval needs: fewer is unreplicated


RESULTS = ("accuracy", "baseline_accuracy", "net_accuracy")
"""Results of Experiment 3's own table; the other fields are config fields or the trials table's."""


def add_trial(store: Path, sweep: str, experiment: str, seed: int, status: str = "ok", tables: dict | None = None, **fields) -> None:
    """Commit one trial with the store's real writer: its trials row (loss, error), its config
    (k, L, delta, amplitudes) and results (accuracy) in its experiment's table, its other rows."""
    point = "-".join(f"{k}{v}" for k, v in sorted(fields.items()) if k not in TRIALS.column_names and k not in RESULTS and not isinstance(v, list))
    trial_id = f"{sweep}-{point}-s{seed}"
    # The experiment's defaults fill the fields not given, as a launch resolves a config.
    given = {k: v for k, v in fields.items() if k not in TRIALS.column_names and k not in RESULTS}
    config = {**to_data(REGISTRY[experiment].config()), **given, "seed": seed}
    generic = {k: v for k, v in fields.items() if k in TRIALS.column_names}
    row = dict(trial_id=trial_id, sweep=sweep, experiment=experiment, seed=seed, status=status, config_json=json.dumps(config), **generic)
    arrow = {TRIALS.name: to_arrow(TRIALS, [row])}
    if status == "ok":  # only trials that ended ok have rows in other tables
        results = {k: v for k, v in fields.items() if k in RESULTS}
        arrow[experiment] = to_arrow(TABLES[experiment], [dict(trial_id=trial_id, sweep=sweep, **config, **results)])
        for name, rows in (tables or {}).items():
            arrow[name] = to_arrow(TABLES[name], [dict(trial_id=trial_id, **r) for r in rows])
    if _together is not None:
        _together.setdefault((store, sweep), []).append(arrow)
    else:
        write_flush(store, sweep, arrow, TABLES)  # a flush of its own, as write_trial makes (no trial is written twice here)


_together: dict[tuple[Path, str], list[dict]] | None = None


@contextmanager
def flushed_together() -> Iterator[None]:
    """The trials added meanwhile are committed at the end, one flush per sweep, as a launch's
    writer batches the trials it is sent (and its end-of-launch merge leaves few parts): a store of
    a trial per flush reads several times slower."""
    global _together
    _together = {}
    try:
        yield
        for (store, sweep), flushes in _together.items():
            write_flush(store, sweep, concat_tables(flushes), TABLES)
    finally:
        _together = None


def learning_order(store: Path, sweep: str = "lo", lower_first: bool = True, unreached: int = 0, norms_grow: bool = True) -> None:
    """Exp. 1 where frequency k reaches half its amplitude at step 20k (or 20(55 - k) if not
    lower_first); the `unreached` highest frequencies never get there (they stay at 0.05). The three layers' spectral
    norms grow with the steps (or shrink, if not norms_grow)."""
    for amplitudes in ("equal", "increasing"):
        for seed in SEEDS:
            spectra, norms = [], []
            for k in FREQUENCIES:
                pace = 20 * (k if lower_first else 55 - k)
                for step in range(0, 1100, 100):
                    value = min(1.0, step / (2 * pace)) + 0.01 * seed
                    if k in FREQUENCIES[len(FREQUENCIES) - unreached:]:
                        value = 0.05
                    spectra.append(dict(step=step, k=k, amplitude=1.0, magnitude=value, normalized_magnitude=value))
            for step in range(0, 1100, 100):
                norm = (1 + step / 500 if norms_grow else 3 - step / 500) + 0.01 * seed
                norms += [dict(step=step, layer=layer, spectral_norm=norm) for layer in range(3)]
            add_trial(store, sweep, "learning_order", seed, amplitudes=amplitudes, tables={"spectra": spectra, "layer_norms": norms})


def manifold_regression(store: Path, sweep: str = "reg", falls: bool = True, sooner: bool = True) -> None:
    """Exp. 2 whose final MSE falls with L (or rises, if not `falls`), and whose frequency k reaches
    its amplitude at step k (L + 1) / (L + 1)^2: sooner for larger L (or later, if not `sooner`)."""
    for seed in SEEDS:
        for L in (0, 4, 10, 16):
            pace = 1 / (1 + L) if sooner else (1 + L) / 17
            spectra = [dict(step=step, k=k, amplitude=1.0, magnitude=m, normalized_magnitude=m)
                       for k in (20, 40, 60, 80) for step in range(0, 1100, 100) for m in [min(1.0, step / (10 * k * pace + 1))]]
            add_trial(store, sweep, "manifold_regression", seed, L=L, loss=(2 / (1 + L) if falls else 0.1 * (1 + L)) + 0.001 * seed,
                      tables={"spectra": spectra})


def manifold_classification(store: Path, sweep: str = "cls", k_slope: float = -0.001, L_slope: float = 0.01) -> None:
    """Exp. 3 whose accuracy changes by k_slope per unit of k and L_slope per unit of L."""
    for seed in SEEDS:
        for k in (50, 150, 250, 350):
            for L in (0, 4, 8):
                add_trial(store, sweep, "manifold_classification", seed, k=k, L=L, accuracy=0.8 + k_slope * k + L_slope * L, baseline_accuracy=0.6)


def perturbation(store: Path, sweep: str = "pt", high_first: bool = True) -> None:
    """Exp. 4 where frequency k keeps half its magnitude up to delta = 50/k (or 50/(55 - k))."""
    for seed in SEEDS:
        for delta in [i / 2 for i in range(13)]:
            rows = []
            for k in FREQUENCIES[1:]:
                scale = k if high_first else 55 - k
                value = max(0.0, 1 - delta * scale / 100)
                rows.append(dict(delta=delta, k=k, amplitude=1.0, unperturbed_magnitude=1.0, magnitude=value, normalized_magnitude=value,
                                 mean_magnitude=value, normalized_mean_magnitude=value))
            add_trial(store, sweep, "perturbation", seed, delta=delta, tables={"perturbation_spectra": rows})


def decision_boundary(store: Path, sweep: str = "db", agree_on_manifold: bool = True, differ_off: bool = True) -> None:
    """Figure 2's nets, one per seed: the same classes on the 20 training points (or, if not
    agree_on_manifold, each seed's own third of them opposite), each seed's own third of the 4 x 4
    box opposite (or none, if not differ_off): two seeds' nets differ on two thirds of a region."""
    for seed in SEEDS:
        manifold = [dict(region="manifold", x=i / 10, y=0.0, logit=(1.0 if i % 2 else -1.0) * (-1 if not agree_on_manifold and i % 3 == seed else 1),
                         label=i % 2) for i in range(20)]
        box = [dict(region="box", x=x / 4, y=y / 4, logit=(1.0 if (x + y) % 2 else -1.0) * (-1 if differ_off and (4 * x + y) % 3 == seed else 1))
               for x in range(4) for y in range(4)]
        add_trial(store, sweep, "decision_boundary", seed, k=200, L=20, accuracy=1.0, baseline_accuracy=0.6, tables={"decision_maps": manifold + box})


def noise_regression(store: Path, sweep: str = "nr", manifold_lower: bool = True) -> None:
    """Experiment 5 whose loss on the digit manifold is half the flat one's at every step (or twice it)."""
    for seed in SEEDS:
        for inputs in ("manifold", "flat"):
            factor = 0.5 if (inputs == "manifold") == manifold_lower else 1.0
            curves = [dict(step=step, loss=factor * 0.3 / (1 + step / 100) + 0.001 * seed) for step in range(0, 1100, 100)]
            add_trial(store, sweep, "noise_regression", seed, inputs=inputs, tables={"curves": curves})


def knn(store: Path, sweep: str = "kn", knn_rises: bool = False, net_smoother: bool = True) -> None:
    """Figure 10: 1-NN's accuracy is 1 everywhere, 5-NN's falls with L (or rises, if knn_rises),
    and Experiment 3's net on the same cells (a sweep of its own, on the same 500 points) rises
    with L; at (150, 8) the net's zeta decays as 1/f^2 and the k-NNs' as 1/sqrt(f) (or the other way round)."""
    for seed in SEEDS:
        for k in (150, 250, 350):
            for L in (0, 4, 8):
                accuracy = [dict(classifier="knn", neighbors=1, accuracy=1.0),
                            dict(classifier="knn", neighbors=5, accuracy=0.7 + (0.02 if knn_rises else -0.01) * L - 0.0001 * k)]
                spectra = []
                if (k, L) == (150, 8):
                    net_power, knn_power = (2.0, 0.5) if net_smoother else (0.5, 2.0)
                    for classifier, neighbors, power in (("net", None, net_power), ("knn", 1, knn_power), ("knn", 5, knn_power)):
                        spectra += [dict(classifier=classifier, neighbors=neighbors, frequency=f, zeta=(1 + f) ** -power) for f in range(11)]
                fitted = {"net_accuracy": 1.0} if spectra else {}  # the net trained at the spectrum point fits its points
                add_trial(store, sweep, "knn", seed, k=k, L=L, n_points=500, tables={"classifier_accuracy": accuracy, "radial_spectra": spectra},
                          **fitted)
                add_trial(store, f"{sweep}-net", "manifold_classification", seed, k=k, L=L, n_points=500,
                          accuracy=0.7 + 0.02 * L - 0.0001 * k + 0.001 * seed, baseline_accuracy=0.6)


def label_noise(store: Path, sweep: str = "ln", low_hurts: bool = True, high_hurts: bool = False) -> None:
    """Best validation loss 0.1 without noise; +0.4 beta at the lowest k (nothing, if not low_hurts)
    and +0.05 beta at the highest (+0.4 beta if high_hurts); two seeds 0.002 apart."""
    for seed in SEEDS:
        for k in (0.6, 6.0):
            for beta in (0.0, 0.5, 1.0):
                slope = (0.4 if low_hurts else 0.0) if k == 0.6 else (0.4 if high_hurts else 0.05)
                best = 0.1 + slope * beta + 0.002 * seed
                rows = [dict(step=s, clean_training_loss=0.1, validation_loss=best * factor, validation_accuracy=0.9)
                        for s, factor in ((0, 3.0), (100, 1.0), (200, 1.5))]
                add_trial(store, sweep, "label_noise", seed, noise_frequency=k, noise_amplitude=beta, tables={"validation_curves": rows})


def kernel_spectrum(store: Path, sweep: str = "ks", low_first: bool = True, high_frequency_cleaner: bool = True) -> None:
    """Bin b of the spectrum reaches the target at step 200 (b + 1) (or 200 (5 - b), if not
    low_first); the best clean loss is 0.2 with high-frequency noise and 0.3 with white (or the
    other way round)."""
    for seed in SEEDS:
        for noise in ("white", "high_frequency"):
            spectra = [dict(step=step, bin=b, first_index=10 * b, last_index=10 * b + 9, magnitude=m, target_magnitude=1.0, normalized_magnitude=m)
                       for b in range(5) for step in range(0, 1100, 100)
                       for m in [min(1.0, step / (200 * ((b + 1) if low_first else (5 - b)))) + 0.01 * seed]]
            best = 0.2 if (noise == "high_frequency") == high_frequency_cleaner else 0.3
            clean = [dict(step=step, clean_loss=best * factor) for step, factor in ((0, 4.0), (500, 1.0), (1000, 2.0))]
            add_trial(store, sweep, "kernel_spectrum", seed, target_noise=noise, tables={"kernel_spectra": spectra, "clean_curves": clean})


EXPERIMENTS = {
    "C1": learning_order, "C2": manifold_regression, "C3": manifold_classification, "C4": perturbation,
    "C5": decision_boundary, "C6": noise_regression, "C7": knn, "C8": label_noise, "C9": kernel_spectrum,
}
VIOLATIONS = {
    "C8a": lambda store: label_noise(store, low_hurts=False),  # C8b fails with it: no low-frequency rise to compare with
    "C8b": lambda store: label_noise(store, high_hurts=True),
    "C9a": lambda store: kernel_spectrum(store, low_first=False),
    "C9b": lambda store: kernel_spectrum(store, high_frequency_cleaner=False),
    "C1b": lambda store: learning_order(store, norms_grow=False),
    "C2b": lambda store: manifold_regression(store, sooner=False),
    "C5a": lambda store: decision_boundary(store, agree_on_manifold=False),
    "C5b": lambda store: decision_boundary(store, differ_off=False),
    "C6": lambda store: noise_regression(store, manifold_lower=False),
    "C7a": lambda store: knn(store, knn_rises=True),
    "C7b": lambda store: knn(store, net_smoother=False),
    "C1": lambda store: learning_order(store, lower_first=False),
    "C2": lambda store: manifold_regression(store, falls=False),
    "C3a": lambda store: manifold_classification(store, k_slope=+0.001),  # accuracy rising with k
    "C3b": lambda store: manifold_classification(store, L_slope=-0.01),
    "C4": lambda store: perturbation(store, high_first=False),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Callable[..., None]:
    """Copy the store of one builder into a store: EXPERIMENTS[name] (every claim of it holds), or
    VIOLATIONS[name] with broken=True. Each is built once per module: stores are folders of
    uniquely named part files, so copying several into one store merges them as writing them
    there would."""
    root = tmp_path_factory.mktemp("built")
    cache: dict[tuple[str, bool], Path] = {}

    def copy(store: Path, name: str, broken: bool = False) -> None:
        if (name, broken) not in cache:
            cache[name, broken] = open_store(root / f"{name}-{'broken' if broken else 'holds'}")
            with flushed_together():
                (VIOLATIONS if broken else EXPERIMENTS)[name](cache[name, broken])
        shutil.copytree(cache[name, broken], store, dirs_exist_ok=True, symlinks=True)

    return copy


def invoke(*args: str):
    return CliRunner().invoke(cli, ["verify", *args])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return open_store(tmp_path / "store")


def outcomes(output: str) -> dict[str, list[str]]:
    """claim id -> the results of its table rows."""
    table = output.split("\n\n")[0].splitlines()[1:]
    found: dict[str, list[str]] = {}
    for line in table:
        claim, result = line.split()[0], " ".join(line.split()[1:3]) if line.split()[1] == "no" else line.split()[1]
        found.setdefault(claim, []).append(result)
    return found


def test_spearman_is_pearson_of_ranks_with_ties_sharing_their_mean_rank():
    assert spearman(pd.Series([1, 2, 3, 4, 5]), pd.Series([2, 1, 4, 3, 5])) == pytest.approx(1 - 6 * 4 / (5 * 24))  # 0.8, no ties
    assert spearman(pd.Series([1, 2, 3, 4]), pd.Series([1, 8, 27, 1000])) == pytest.approx(1.0)  # monotone, not linear
    assert spearman(pd.Series([1, 2, 3, 4]), pd.Series([1, 2, 2, 3])) == pytest.approx(0.9486833, abs=1e-6)  # ranks 1, 2.5, 2.5, 4
    assert pd.isna(spearman(pd.Series([1, 2, 3]), pd.Series([5, 5, 5])))


def test_every_claim_holds_on_a_store_built_to_show_it_and_exit_is_0(store, built):
    for name in EXPERIMENTS:
        built(store, name)
    result = invoke(str(store))
    assert result.exit_code == 0, result.output
    assert outcomes(result.output) == {
        "C1": ["pass", "pass"], "C1b": ["pass", "pass"], "C2": ["pass"], "C2b": ["pass"], "C3a": ["pass", "pass"], "C3b": ["pass", "pass"],
        "C4": ["pass"], "C5a": ["pass"], "C5b": ["pass"], "C6": ["pass"], "C7a": ["no data", "pass"], "C7b": ["pass"],
        "C8a": ["pass"], "C8b": ["pass"], "C9a": ["pass", "pass"], "C9b": ["pass"],
    }
    # 1-NN's training accuracy is 1 at every L: no evidence either way, so no verdict, never a pass
    assert "22 verdicts: 21 pass, 0 fail, 0 inconclusive, 0 unreplicated, 1 no data; no data: C7a on kn (K = 1)." in result.output
    # In a store of several experiments L is null for some, so pandas reads it as float: labels stay integers.
    assert "final MSE, by L: 0: 2.001, 4: 0.401, 10: 0.1828, 16: 0.1186" in result.output  # seed means (seeds 0.001 apart)


def test_a_rho_exactly_on_its_threshold_holds_though_floats_put_it_a_hair_past(store):
    # Four values of L with one neighbouring pair swapped: rho is exactly -0.8, C2's threshold,
    # and a hair above it (-0.7999999999999998) when computed in floats.
    for seed in SEEDS:
        for L, mse in ((0, 2.7), (4, 1.4), (10, 0.34), (16, 0.42)):
            add_trial(store, "reg", "manifold_regression", seed, L=L, loss=mse)
    assert spearman(pd.Series([0, 4, 10, 16]), pd.Series([2.7, 1.4, 0.34, 0.42])) == pytest.approx(-0.8, abs=1e-12)
    from workloads.manifold_regression.claims import C2

    assert C2.holds(-0.7999999999999998) and not C2.holds(-0.79)  # how pandas' rank correlation rounds it
    result = invoke(str(store), "--sweep", "reg")
    assert result.exit_code == 0, result.output
    assert outcomes(result.output)["C2"] == ["pass"]
    assert re.search(r"-0\.800 \[-0\.800, -0\.800\]\s+97\.5%, look 1\s+3/3\s+<= -0\.8", result.output)


@pytest.mark.parametrize("broken", sorted(VIOLATIONS))
def test_a_store_built_to_violate_a_claim_fails_it_by_name_and_exits_1(store, built, broken):
    for claim in EXPERIMENTS:
        if not broken.startswith(claim):
            built(store, claim)
    built(store, broken, broken=True)
    result = invoke(str(store))
    assert result.exit_code == 1, result.output
    failed = {claim for claim, results in outcomes(result.output).items() if "fail" in results}
    assert failed == ({"C8a", "C8b"} if broken == "C8a" else {broken})  # C8b measures against C8a's rise
    assert f"; fail: {broken} on " in result.output


def test_a_claim_whose_experiment_is_absent_is_no_data_not_a_pass(store):
    manifold_regression(store)
    result = invoke(str(store))
    assert result.exit_code == 0, result.output
    absent = ("C1", "C1b", "C3a", "C3b", "C4", "C5a", "C5b", "C6", "C7a", "C7b", "C8a", "C8b", "C9a", "C9b")
    assert outcomes(result.output) == {"C2": ["pass"], "C2b": ["pass"], **{claim: ["no data"] for claim in absent}}
    assert f"16 verdicts: 2 pass, 0 fail, 0 inconclusive, 0 unreplicated, 14 no data; no data: {', '.join(absent)}." in result.output


def test_two_values_of_an_axis_are_too_few_for_a_correlation_and_count_as_no_data(store):
    for seed in SEEDS:
        for L in (0, 16):
            add_trial(store, "two", "manifold_regression", seed, L=L, loss=1.0 / (1 + L))
    [verdict] = [v for v in verify_store(store) if v.claim_id == "C2"]
    assert (verdict.outcome, verdict.sweep, verdict.value) == ("no data", "two", None)
    assert verdict.notes == ["needs at least 3 values of L, the sweep has 2"]


def test_frequencies_never_reached_rank_after_the_last_step_and_the_output_says_so(store):
    learning_order(store, unreached=3)
    verdicts = [v for v in verify_store(store) if v.claim_id == "C1"]
    assert [v.outcome for v in verdicts] == ["pass", "pass"]
    assert all(v.never_crossed == [40, 45, 50] and v.series["50"] > v.series["35"] for v in verdicts)
    result = invoke(str(store))
    never = "k = 40, 45, 50 never reached 0.5 within 1000 steps: ordered by the area of their curves like the others; a pair of them is left out"
    assert never in result.output
    assert re.search(r"40: [0-9.]+ \(never 0\.5\)", result.output)


def test_each_sweep_is_its_own_evidence_and_seeds_and_trials_are_counted(store):
    manifold_regression(store, sweep="holds")
    manifold_regression(store, sweep="breaks", falls=False)
    verdicts = {v.sweep: v for v in verify_store(store) if v.claim_id == "C2"}
    assert (verdicts["holds"].outcome, verdicts["breaks"].outcome) == ("pass", "fail")
    assert (verdicts["holds"].trials, verdicts["holds"].seeds) == (12, 3)
    only = verify_store(store, ("holds",))
    assert [v.sweep for v in only if v.claim_id == "C2"] == ["holds"] and all(v.sweep != "breaks" for v in only)


def test_failed_trials_are_left_out_and_noted(store):
    manifold_regression(store)
    add_trial(store, "reg", "manifold_regression", 7, status="diverged", L=4, error="loss became nan")
    [verdict] = [v for v in verify_store(store) if v.claim_id == "C2"]
    assert verdict.outcome == "pass" and verdict.trials == 12
    assert "trials of the sweep that did not end ok left out: 1 diverged" in verdict.notes


def test_json_output_carries_every_verdict_and_the_overall_result(store):
    perturbation(store, high_first=False)
    result = invoke(str(store), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["holds"] is False
    assert [v["claim_id"] for v in report["verdicts"]] == [c.claim_id for c in CLAIMS]
    [c4] = [v for v in report["verdicts"] if v["claim_id"] == "C4"]
    assert c4["outcome"] == "fail" and c4["value"] < 0.2 and c4["trials"] == 39 and c4["seeds"] == 3


def test_verify_changes_no_data_and_records_only_its_look_which_judging_again_leaves_as_it_was(store, built):
    for name in EXPERIMENTS:
        built(store, name)
    before = snapshot(store)
    assert invoke(str(store)).exit_code == 0
    after = snapshot(store)
    assert set(after) - set(before) == {"decisions/_looks.json", ".locks/_looks.lock"}
    assert {name: data for name, data in after.items() if name in before} == before
    assert invoke(str(store)).exit_code == 0 and snapshot(store) == after  # the same trials: the same look, nothing new


@pytest.mark.parametrize(("args", "message"), [(["--sweep", "nope"], "no trials of sweep(s) 'nope'"), ([], "not an sbsweep store")])
def test_an_unknown_sweep_or_a_foreign_directory_is_one_line_and_exit_2(store, tmp_path, args, message):
    target = store if args else tmp_path
    (tmp_path / "notes.txt").write_text("not a store")
    result = invoke(str(target), *args)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_verify_as_a_real_subprocess_exits_1_on_a_broken_claim(store):
    manifold_classification(store, k_slope=+0.001)
    process = subprocess.run([sys.executable, "-m", "orchestrator", "verify", str(store)], capture_output=True, text=True, timeout=120)
    assert process.returncode == 1, process.stderr
    assert "C3a    fail" in process.stdout


def test_verify_reads_what_real_trials_write(store):
    """Not made-up numbers: tiny real Experiment 1 trials, run and stored by sbsweep's own code."""
    from orchestrator.plan import TrialSpec, config_hash
    from orchestrator.trial import run_trial

    for amplitudes in ("equal", "increasing"):
        for seed in SEEDS:
            config = {"amplitudes": amplitudes, "seed": seed, "frequencies": [1, 3, 6], "n_points": 32, "width": 16, "depth": 2,
                      "steps": 60, "learning_rate": 1e-2, "eval_every_steps": 20, "power_iterations": 2, "function_steps": [20]}
            digest = config_hash("learning_order", config, REGISTRY["learning_order"].version)
            write_trial(store, run_trial(TrialSpec(f"real-{digest}", "real", "learning_order", digest, config)), TABLES)
    verdicts = [v for v in verify_store(store) if v.claim_id == "C1"]
    assert [(v.sweep, v.group, v.trials, v.seeds) for v in verdicts] == [
        ("real", "amplitudes: equal", 3, 3), ("real", "amplitudes: increasing", 3, 3)
    ]
    assert all(list(v.series) == ["1", "3", "6"] and v.outcome in ("pass", "fail", "inconclusive") for v in verdicts)
    assert all(0.0 <= time <= 60.0 for v in verdicts for time in v.series.values())  # learning times: areas within the 60 steps


def test_verify_gives_one_verdict_per_value_of_each_grid_axis_the_claim_does_not_use(store):
    # Experiment 1 over fourier_scale: frequencies learned in order at scale 1, in reverse at scale 10.
    for scale, lower_first in ((1.0, True), (10.0, False)):
        for seed in SEEDS:
            spectra = [dict(step=step, k=k, amplitude=1.0, magnitude=m, normalized_magnitude=m)
                       for k in FREQUENCIES for step in range(0, 1100, 100)
                       for m in [min(1.0, step / (40 * (k if lower_first else 55 - k))) + 0.01 * seed]]
            norms = [dict(step=step, layer=0, spectral_norm=1 + step / 100) for step in range(0, 1100, 100)]
            add_trial(store, "scales", "learning_order", seed, amplitudes="equal", encoding="fourier", fourier_scale=scale,
                      tables={"spectra": spectra, "layer_norms": norms})
    verdicts = verdicts_of(store, "C1")
    assert {group: v.outcome for (_, group), v in verdicts.items()} == {
        "fourier_scale: 1; amplitudes: equal": "pass", "fourier_scale: 10; amplitudes: equal": "fail",
    }
    assert all(v.trials == 3 and v.seeds == 3 for v in verdicts.values())  # each value's own trials, seeds averaged
    result = invoke(str(store), "--json")
    c1 = [v for v in json.loads(result.output)["verdicts"] if v["claim_id"] == "C1"]
    assert [v["axes"] for v in c1] == [{"fourier_scale": 1}, {"fourier_scale": 10}]
    assert "scales (fourier_scale: 10; amplitudes: equal)" in invoke(str(store)).output


def test_verify_of_one_sweep_speaks_only_of_that_sweeps_claims(store):
    manifold_regression(store, sweep="reg")
    perturbation(store)
    only = verify_store(store, ("reg",))
    assert {v.claim_id for v in only} == {"C2", "C2b"}
    assert "C4" not in invoke(str(store), "--sweep", "reg").output


def test_each_new_set_of_trials_is_one_more_look_at_a_stricter_level_whichever_command_judges_it(store):
    from orchestrator.looks import look_confidence
    from orchestrator.report import build

    manifold_regression(store, sweep="reg")
    [first] = [v for v in verify_store(store) if v.claim_id == "C2"]
    assert (first.look, first.confidence) == (1, look_confidence(1)) == (1, 0.975)
    assert [v for v in verify_store(store) if v.claim_id == "C2"][0].look == 1  # the same trials again: the same look
    for L, mse in ((0, 3.0), (4, 2.0), (10, 1.0), (16, 0.5)):  # a fourth seed
        add_trial(store, "reg", "manifold_regression", 3, L=L, loss=mse)
    [report_c2] = [v for claim in build(store)["claims"] for v in claim["verdicts"] if v["claim_id"] == "C2"]
    assert (report_c2["look"], report_c2["confidence"]) == (2, look_confidence(2))  # the report's judgement is look 2
    [second] = [v for v in verify_store(store) if v.claim_id == "C2"]
    assert (second.look, second.confidence, second.interval) == (2, look_confidence(2), report_c2["interval"])
