"""The README keeps its promises: two opening commands, CI runs the second, defaults listed."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from workloads import REGISTRY
from workloads.config import field_docs

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def opening_commands() -> list[str]:
    """The README's first two fenced code blocks, which must come before any other section."""
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", README, flags=re.S)
    first_heading = README.find("\n## ")
    assert README.find("```") < first_heading, "the README must open with its commands"
    return [block.strip() for block in blocks[:2]]


def test_the_readme_opens_with_the_main_job_then_the_tests():
    main_job, tests = opening_commands()
    assert "\n" not in main_job and "\n" not in tests
    assert main_job.startswith("pip install torch==2.13.0") and "sbsweep launch sweeps/" in main_job
    assert "pytest" in tests


def test_ci_runs_the_readmes_test_command_verbatim():
    _, tests = opening_commands()
    script = (REPO / ".ci" / "run").read_text()
    assert tests in [line.strip() for line in script.splitlines()]


def test_the_main_job_names_a_sweep_file_that_exists():
    main_job, _ = opening_commands()
    sweep = re.search(r"sbsweep launch (\S+)", main_job).group(1)
    assert (REPO / sweep).is_file()


def test_every_config_field_is_documented_and_every_assumed_default_is_named_in_the_readme():
    assumed = 0
    for workload in REGISTRY.values():
        docs = field_docs(workload.config)
        for field in dataclasses.fields(workload.config):
            assert docs.get(field.name), f"{workload.name}.{field.name} has no docstring"
            if "ASSUMED" in docs[field.name]:
                assumed += 1
                assert f"`{field.name}`" in README, f"ASSUMED default {workload.name}.{field.name} is not in the README"
    assert assumed, "the configs' docstrings mark the defaults the paper does not give as ASSUMED"
