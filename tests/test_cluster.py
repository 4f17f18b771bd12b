"""Several nodes, GPUs shared by fractions, and the cluster launcher config: one store at the end."""

from __future__ import annotations

import copy
import socket
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
def two_nodes():
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


def test_four_trials_share_one_gpu_by_quarters_and_fall_back_to_the_cpu_without_cuda(write_sweep, tmp_path):
    import torch

    ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)  # a faked GPU
    try:
        sweep = write_sweep(SWEEP.format(name="quarters", steps=600, resources="{cpu: 0.5, gpu: 0.25}"))
        result = CliRunner().invoke(cli, ["launch", str(sweep), "--store", str(tmp_path / "store"), "--no-plot"])
        assert result.exit_code == 0, result.output
    finally:
        ray.shutdown()
    trials = pd.read_parquet(tmp_path / "store" / "trials")
    assert list(trials["gpu_ids"]) == ["0"] * 4
    assert set(trials["device"]) == ({"cuda:0"} if torch.cuda.is_available() else {"cpu"})
    starts = trials["started_at"]
    ends = starts + pd.to_timedelta(trials["wall_s"], unit="s")
    assert starts.max() < ends.min(), "all four trials ran at once on the one GPU"
