"""MNIST, the paper's own images: every form a copy comes in is read to the same arrays, nothing but
MNIST's content is kept, a launch without it fails before anything runs, and a real trial runs on
it where it is in the data cache (CI fetches it first: `sbsweep fetch mnist` in .ci/run)."""

from __future__ import annotations

import gzip
import hashlib
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from orchestrator.cli import cli
from workloads import mnist

REPO = Path(__file__).resolve().parents[1]
HAVE_MNIST = mnist.is_kept()
needs_mnist = pytest.mark.skipif(not HAVE_MNIST, reason=f"MNIST is not in the data cache {mnist.data_dir()}: `sbsweep fetch mnist` puts it there")


def small_mnist(seed: int = 0) -> dict[str, np.ndarray]:
    """Four arrays shaped as MNIST's, smaller: 30 training and 10 test images of 28 x 28."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8), "train_labels": rng.integers(0, 10, 30, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8), "test_labels": rng.integers(0, 10, 10, dtype=np.uint8),
    }


def digests(arrays: dict[str, np.ndarray]) -> dict[str, tuple[tuple[int, ...], str]]:
    return {name: (a.shape, hashlib.sha256(a.tobytes()).hexdigest()) for name, a in arrays.items()}


def write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


def write_idx_folder(folder: Path, arrays: dict[str, np.ndarray], gzipped: bool | None = None) -> Path:
    """The arrays as IDX files; `gzipped` None: every other one .gz (the download's form), the rest plain (an unpacked copy)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (name, stem) in enumerate(mnist.IDX_NAMES.items()):
        compress = i % 2 == 0 if gzipped is None else gzipped
        write_idx(folder / (f"{stem}.gz" if compress else stem), arrays[name], compress)
    return folder


def classic_pickle(arrays: dict[str, np.ndarray], path: Path) -> Path:
    """The arrays as the classic mnist.pkl.gz holds them: pixels / 256 as float32 rows, the
    training set split into training and validation."""
    def rows(images: np.ndarray) -> np.ndarray:
        return (images.reshape(len(images), -1).astype(np.float32) / 256).astype(np.float32)

    cut = 20
    content = ((rows(arrays["train_images"][:cut]), arrays["train_labels"][:cut].astype(np.int64)),
               (rows(arrays["train_images"][cut:]), arrays["train_labels"][cut:].astype(np.int64)),
               (rows(arrays["test_images"]), arrays["test_labels"].astype(np.int64)))
    path.write_bytes(gzip.compress(pickle.dumps(content, protocol=2)))
    return path


def test_idx_files_plain_or_gzipped_and_the_classic_pickle_read_to_the_same_arrays(tmp_path):
    arrays = small_mnist()
    from_idx = mnist.read_copy(write_idx_folder(tmp_path / "raw", arrays))
    from_torchvision_layout = mnist.read_copy(write_idx_folder(tmp_path / "tv" / "MNIST" / "raw", arrays).parents[1])
    from_pickle = mnist.read_copy(classic_pickle(arrays, tmp_path / "mnist.pkl.gz"))
    for read in (from_idx, from_torchvision_layout, from_pickle):
        assert set(read) == set(arrays)
        for name, array in arrays.items():
            assert read[name].dtype == np.uint8 and np.array_equal(read[name], array), name
    assert mnist.check(from_pickle, "test", expected=digests(arrays)) is from_pickle


def test_a_pickle_naming_anything_but_numpy_arrays_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (subprocess.call, (["touch", str(marker)],))

    hostile = tmp_path / "mnist.pkl.gz"
    hostile.write_bytes(gzip.compress(pickle.dumps(((Payload(), None), (None, None), (None, None)), protocol=2)))
    with pytest.raises(mnist.DataError, match="only numpy arrays are admitted") as error:
        mnist.read_copy(hostile)
    assert not marker.exists() and "\n" not in str(error.value) and str(hostile) in str(error.value)


@pytest.mark.parametrize("damage", ["pixel", "label", "shape", "truncated idx"])
def test_a_changed_or_damaged_copy_is_one_line_naming_it_and_nothing_is_kept(tmp_path, damage):
    arrays = small_mnist()
    expected = digests(arrays)
    changed = {name: array.copy() for name, array in arrays.items()}
    if damage == "pixel":
        changed["train_images"][3, 14, 14] ^= 1
    elif damage == "label":
        changed["test_labels"][0] = (changed["test_labels"][0] + 1) % 10
    elif damage == "shape":
        changed["test_images"] = changed["test_images"][:9]
    if damage == "truncated idx":
        folder = write_idx_folder(tmp_path / "raw", arrays)
        path = folder / f"{mnist.IDX_NAMES['train_labels']}"
        path.write_bytes(path.read_bytes()[:-3])
        with pytest.raises(mnist.DataError, match="IDX header says") as error:
            mnist.read_copy(folder)
    else:
        with pytest.raises(mnist.DataError, match="not MNIST's|uint8") as error:
            mnist.check(changed, "the copy", expected=expected)
    assert "\n" not in str(error.value)


def test_fetch_from_a_foreign_copy_exits_2_in_one_line_and_keeps_nothing(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv(mnist.DATA_ENV, str(cache))
    folder = write_idx_folder(tmp_path / "raw", small_mnist())
    result = CliRunner().invoke(cli, ["fetch", "mnist", "--from", str(folder)])
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert str(folder) in line and "train_images" in line
    assert not mnist.kept_path(cache).exists()


MNIST_SWEEP = """\
name: tiny_mnist
experiment: label_noise
grid: {noise_amplitude: [0.0, 1.0]}
seeds: [0]
workload: {dataset: mnist, n_points: 100, width: 16, depth: 3, steps: 20, eval_every_steps: 10}
"""


def test_a_launch_that_needs_mnist_without_it_fails_in_one_line_naming_fetch_before_anything_is_stored(tmp_path, monkeypatch):
    monkeypatch.setenv(mnist.DATA_ENV, str(tmp_path / "empty-cache"))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(MNIST_SWEEP)
    store = tmp_path / "store"
    result = CliRunner().invoke(cli, ["launch", str(sweep), "--store", str(store)])
    assert result.exit_code == 2, result.output
    line = result.output.strip().splitlines()[-1]
    assert line.startswith(f"Error: {sweep}: sweep 'tiny_mnist' runs on mnist") and "`sbsweep fetch mnist`" in line
    assert not store.exists() or not any((store / "trials").glob("*/*.parquet"))
    # The same as a real subprocess, as a user runs it: one line, exit 2.
    done = subprocess.run([sys.executable, "-m", "orchestrator", "launch", str(sweep), "--store", str(store)], capture_output=True,
                          text=True, cwd=tmp_path, env={**_env(), mnist.DATA_ENV: str(tmp_path / "empty-cache")})
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "sbsweep fetch mnist" in done.stderr


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


@needs_mnist
def test_the_kept_copy_is_mnist_and_idx_files_written_from_it_are_accepted_as_mnist(tmp_path, monkeypatch):
    kept = mnist.load()
    assert kept["train_labels"][:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert kept["test_labels"][:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    # The IDX form of the same content passes the same checks: `fetch --from` a folder of IDX files.
    monkeypatch.setenv(mnist.DATA_ENV, str(tmp_path / "cache"))
    folder = write_idx_folder(tmp_path / "raw", kept, gzipped=False)  # compressing 47 MB would take most of the test
    result = CliRunner().invoke(cli, ["fetch", "mnist", "--from", str(folder)])
    assert result.exit_code == 0, result.output
    assert mnist.is_kept(tmp_path / "cache")
    again = CliRunner().invoke(cli, ["fetch", "mnist"])
    assert again.exit_code == 0 and "nothing to do" in again.output


@needs_mnist
def test_a_worker_whose_machine_lacks_mnist_gets_it_from_the_launch_or_fails_at_once_naming_the_machine(own_ray, tmp_path):
    # The worker's data cache is where a file stands (its machine cannot keep anything there): its
    # trials crash at once, each naming the machine. With the way cleared, as on a fresh cluster
    # node, the relaunch ships the driver's copy through Ray's object store, the worker keeps it,
    # checked, and trains on MNIST's 784 pixels.
    import pandas as pd
    import ray

    from orchestrator.launcher import launch
    from results_schema import TrialStatus

    worker_cache = tmp_path / "node-cache"
    worker_cache.write_text("a file where the cache should be")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(MNIST_SWEEP)
    ray.init(address="local", num_cpus=1, include_dashboard=False, runtime_env={"env_vars": {mnist.DATA_ENV: str(worker_cache)}})
    try:
        blocked = launch(sweep, store=tmp_path / "store", plot=False)
        worker_cache.unlink()
        cleared = launch(sweep, store=tmp_path / "store", plot=False)
    finally:
        ray.shutdown()
    assert blocked.statuses == {TrialStatus.CRASHED: 2}
    assert all(error.startswith("node ") and "cannot keep mnist in its data cache" in error and "\n" not in error
               for _, _, error in blocked.failures)
    assert cleared.ran == 2 and cleared.statuses == {TrialStatus.OK: 2}
    assert mnist.is_kept(worker_cache)
    own = pd.read_parquet(tmp_path / "store" / "label_noise")
    assert set(own["dataset"]) == {"mnist"} and set(own["n_points"]) == {100}
    # The data set's own noise frequency (the slides' k = 0.1 on MNIST) is stored where it acts.
    assert own.loc[own["noise_amplitude"] > 0, "noise_frequency"].tolist() == [0.1]
    trials = pd.read_parquet(tmp_path / "store" / "trials")
    assert {json.loads(c)["dataset"] for c in trials["config_json"]} == {"mnist"}
    assert (trials["parameters"] == 784 * 16 + 16 + 16 * 16 + 16 + 16 + 1).all()  # 784 inputs: MNIST's pixels


def test_the_experiments_on_real_images_show_the_dataset_key_and_what_a_null_default_takes_on_each():
    result = CliRunner().invoke(cli, ["experiments", "--json"])
    listed = json.loads(result.output)
    for name in ("noise_regression", "label_noise", "kernel_spectrum"):
        key = listed[name]["keys"]["dataset"]
        assert key["default"] == "digits" and "mnist" in key["meaning"] and "sbsweep fetch mnist" in key["meaning"]
    width = listed["kernel_spectrum"]["keys"]["kernel_width"]
    assert width["default"] is None and "1.25 pixel units on MNIST" in width["meaning"]


@pytest.mark.parametrize(("sweep", "override", "named"), [
    ("label_noise_mnist_cpu", "workload.n_points=20000", "the mnist have 11982 images of classes 3 and 8"),
    ("noise_regression_mnist_cpu", "workload.autoencoder_images=70000", "the mnist have 60000 images"),
    ("noise_regression_mnist_cpu", "workload.code_dim=800", "smaller than the 784 pixels"),
    ("kernel_spectrum_mnist_cpu", "workload.spectrum_bins=2000", "2000 bins of n_points=1000"),
])
def test_a_size_mnist_does_not_have_is_one_line_naming_the_key_before_anything_runs(tmp_path, sweep, override, named):
    result = CliRunner().invoke(cli, ["launch", str(REPO / "sweeps" / f"{sweep}.yaml"), "--store", str(tmp_path / "store"), "--set", override])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert override.split("=")[0] in line and named in line and not (tmp_path / "store").exists()
