"""Several nodes, GPUs shared by fractions, and the cluster launcher config: one store at the end."""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import ray
import yaml
from click.testing import CliRunner
from ray.cluster_utils import Cluster

from orchestrator.cli import cli

REPO = Path(__file__).resolve().parents[1]


def validate_cluster_config(config: dict) -> None:
    from ray.autoscaler._private.util import prepare_config, validate_config

    validate_config(prepare_config(copy.deepcopy(config)))


def test_cluster_yaml_validates_against_rays_own_schema_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("this test must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    config = yaml.safe_load((REPO / "cluster.yaml").read_text())
    validate_cluster_config(config)
    assert config["available_node_types"]["gpu_worker"]["resources"]["GPU"] >= 1
    assert config["available_node_types"][config["head_node_type"]]["resources"] == {"CPU": 0}
    assert any("pip install" in c and "sbsweep" in c for c in config["setup_commands"])
    # Every node installs one torch CUDA build, pinned, and refuses a Python older than the code needs.
    [torch_install] = [c for c in config["setup_commands"] if "torch==" in c]
    assert "--index-url https://download.pytorch.org/whl/cu" in torch_install
    [version_check] = [c for c in config["setup_commands"] if "version_info" in c]
    assert subprocess.run(version_check, shell=True).returncode == 0  # this Python (3.11+) passes the check a node runs
    assert subprocess.run(version_check.replace("(3, 11)", "(3, 99)"), shell=True, capture_output=True, text=True).stderr.startswith(
        "sbsweep needs Python 3.11+; this image has ")
    assert "Ubuntu 24.04" in (REPO / "cluster.yaml").read_text()  # Python 3.12: not the 22.04 images' 3.10


def test_the_schema_check_would_catch_a_broken_cluster_yaml():
    config = yaml.safe_load((REPO / "cluster.yaml").read_text())
    config["available_node_types"]["gpu_worker"]["resourcez"] = {"GPU": 1}
    with pytest.raises(Exception, match="resourcez"):
        validate_cluster_config(config)


SWEEP = """\
name: {name}
experiment: manifold_classification
grid: {{k: [3, 20], L: [0, 6]}}
workload: {{width: 8, depth: 2, n_points: 64, steps: {steps}, eval_every_steps: 100}}
resources: {resources}
"""


@pytest.fixture
def two_nodes(own_ray):
    """A real two-node Ray on this machine: a 1-CPU head and a 1-CPU worker with a 'sbs_worker' resource."""
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    worker = cluster.add_node(num_cpus=1, resources={"sbs_worker": 1})
    cluster.wait_for_nodes()
    yield cluster, worker
    if ray.is_initialized():
        ray.shutdown()
    cluster.shutdown()


def test_trials_spread_over_nodes_land_in_one_store_that_records_the_nodes(two_nodes, write_sweep, tmp_path):
    cluster, worker = two_nodes
    store = tmp_path / "store"
    spread = write_sweep(SWEEP.format(name="spread", steps=300, resources="{cpu: 1}"), name="spread.yaml")
    result = CliRunner().invoke(cli, ["launch", str(spread), "--store", str(store), "--address", cluster.address, "--no-plot"])
    assert result.exit_code == 0, result.output
    trials = pd.read_parquet(store / "trials")
    assert len(trials) == 4 and set(trials["status"]) == {"ok"}
    assert set(trials["node_id"]) == {cluster.head_node.node_id, worker.node_id}

    pinned = write_sweep(SWEEP.format(name="pinned", steps=100, resources="{cpu: 1, custom: {sbs_worker: 0.01}}"), name="pinned.yaml")
    result = CliRunner().invoke(cli, ["launch", str(pinned), "--store", str(store), "--address", cluster.address, "--no-plot"])
    assert result.exit_code == 0, result.output
    trials = pd.read_parquet(store / "trials")
    assert set(trials.loc[trials["sweep"] == "pinned", "node_id"]) == {worker.node_id}
    assert len(trials) == 8 and trials["trial_id"].is_unique


def test_trials_that_ask_for_a_gpu_never_fall_back_to_the_cpu_they_fail_at_once_naming_the_cause(own_ray, write_sweep, tmp_path):
    import torch

    ray.init(address="local", num_cpus=1, num_gpus=1, include_dashboard=False, log_to_driver=False)  # a GPU Ray believes in
    try:
        sweep = write_sweep(SWEEP.format(name="halves", steps=600, resources="{cpu: 0.5, gpu: 0.5}"))
        result = CliRunner().invoke(cli, ["launch", str(sweep), "--store", str(tmp_path / "store"), "--no-plot", "--set", "grid.k=[3]"])
    finally:
        ray.shutdown()
    trials = pd.read_parquet(tmp_path / "store" / "trials")
    assert len(trials) == 2 and list(trials["gpu_ids"]) == ["0"] * 2  # Ray gave each its half of the one GPU
    if torch.cuda.is_available():  # a real GPU: both ran on it at once
        assert result.exit_code == 0, result.output
        assert set(trials["device"]) == {"cuda:0"} and trials["gpu_name"].notna().all()
        starts = trials["started_at"]
        assert starts.max() < (starts + pd.to_timedelta(trials["wall_s"], unit="s")).min(), "both trials ran at once on the one GPU"
    else:  # this torch has no CUDA: each trial fails before training, saying why, and none ran on the CPU
        assert result.exit_code == 1
        assert set(trials["status"]) == {"crashed"} and trials["device"].isna().all() and trials["wall_s"].isna().all()
        assert all("resources.gpu=0.5 asks for a GPU, but this worker's torch" in error and "without CUDA" in error for error in trials["error"])
        assert "without CUDA" in result.output


def test_a_lost_cuda_context_ends_the_worker_while_running_out_of_memory_fails_only_the_trial():
    import torch

    from orchestrator.trial import FatalDeviceError, device_failure, failure_line

    oom = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    lost = torch.AcceleratorError("CUDA error: an illegal memory access was encountered")
    assert device_failure(oom) == "oom" and device_failure(lost) == "fatal"
    assert device_failure(RuntimeError("CUDA error: device-side assert triggered")) == "fatal"
    assert device_failure(ValueError("a trial's own bug")) is None and device_failure(RuntimeError("mat1 and mat2 shapes")) is None
    assert failure_line(oom).startswith("out of GPU memory") and "Tried to allocate 2.00 GiB" in failure_line(oom)
    assert failure_line(ValueError("a trial's own bug")) == "ValueError: a trial's own bug"
    with pytest.raises(FatalDeviceError, match="cannot run another trial.*illegal memory access"):
        failure_line(lost)


def test_the_gpu_check_script_says_what_it_found_and_fails_where_there_is_no_gpu(tmp_path):
    import torch

    only = [] if not torch.cuda.is_available() else ["--only", "cuda"]  # on a GPU machine, the quick check alone
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--json", str(tmp_path / "out.json"), *only],
                          capture_output=True, text=True, timeout=120)
    outcomes = {o["name"]: o for o in json.loads((tmp_path / "out.json").read_text())}
    if torch.cuda.is_available():
        assert done.returncode == 0 and outcomes["cuda"]["status"] == "pass", done.stdout
        return
    assert done.returncode == 1, done.stdout
    assert outcomes["cuda"]["status"] == "fail" and "without CUDA" in outcomes["cuda"]["value"]
    assert len(outcomes) == 9 and all(o["status"] == "skipped" for name, o in outcomes.items() if name != "cuda")
    assert "0 of 1 checks passed, 8 skipped" in done.stdout
