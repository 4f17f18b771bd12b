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


def test_every_config_field_is_documented_and_every_assumed_default_is_named_in_the_defaults_table():
    defaults = (REPO / "docs" / "experiments.md").read_text().split("## Defaults we assumed", 1)[1]
    assumed = 0
    for workload in REGISTRY.values():
        docs = field_docs(workload.config)
        for field in dataclasses.fields(workload.config):
            assert docs.get(field.name), f"{workload.name}.{field.name} has no docstring"
            if "ASSUMED" in docs[field.name]:
                assumed += 1
                assert f"`{field.name}`" in defaults, f"ASSUMED default {workload.name}.{field.name} is not in docs/experiments.md's defaults"
    assert assumed, "the configs' docstrings mark the defaults the paper does not give as ASSUMED"


DOCS = {path.relative_to(REPO).as_posix(): path.read_text() for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]}
SOURCE = "\n".join(path.read_text() for folder in ("orchestrator", "workloads", "results_schema", "benchmarks")
                   for path in sorted((REPO / folder).rglob("*.py")))


def test_the_readme_links_every_docs_page_and_each_page_it_links_is_there():
    linked = set(re.findall(r"\]\((docs/[^)#]+)", README))
    assert linked and all((REPO / link).exists() for link in linked), sorted(link for link in linked if not (REPO / link).exists())
    pages = {name for name in DOCS if name.startswith("docs/")}
    assert pages <= linked, f"docs pages the README does not link: {sorted(pages - linked)}"


def code_of(text: str) -> list[str]:
    """The lines of a page's fenced code blocks and its inline code spans: where it names commands."""
    fenced = [line for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S) for line in block.splitlines()]
    return fenced + re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))


def test_the_docs_name_only_sweep_files_commands_and_options_the_code_has():
    from orchestrator.cli import cli

    for name, text in DOCS.items():
        for sweep in re.findall(r"\bsweeps/[\w./-]+\.yaml", text):
            assert (REPO / sweep).is_file(), f"{name} names {sweep}, which does not exist"
        for line in code_of(text):
            # A command where a shell would run one: first on the line, or after &&, a "--" or a quote (ray exec '...').
            for command, rest in re.findall(r"(?:^|&& |-- |')sbsweep ([a-z]+)((?: [^\s`|'\"]+)*)", line.strip()):
                assert command in cli.commands, f"{name}: 'sbsweep {command}' is no command: {line.strip()}"
                known = {opt for param in cli.commands[command].params for opt in getattr(param, "opts", []) + getattr(param, "secondary_opts", [])}
                for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
                    assert option in known | {"--help"}, f"{name}: 'sbsweep {command}' has no {option}: {line.strip()}"


def test_the_docs_name_only_tables_keys_and_names_the_code_has():
    from orchestrator.spec import Execution, Resources, SweepSpec
    from results_schema import LOOKS
    from workloads import TABLES

    spec_keys = {f"execution.{k}" for k in Execution.model_fields} | {f"resources.{k}" for k in Resources.model_fields} | set(SweepSpec.model_fields)
    fields = {f.name for e in REGISTRY.values() for f in dataclasses.fields(e.config)}
    for name, text in DOCS.items():
        for key in re.findall(r"`((?:execution|resources)\.[a-z_]+)", text):
            assert key in spec_keys, f"{name} names the key {key}, which sweep files do not have"
        for key in re.findall(r"`workload\.([a-z_]+)", text):
            assert key in fields, f"{name} names workload.{key}, which no experiment has"
        for table in re.findall(r"read_parquet\([^)]*?/\s*\"?([a-z_]+)\"?\)", text) + re.findall(r"\| `([a-z_]+)` \| one row per", text):
            assert table in TABLES or table == LOOKS.name, f"{name} names the table {table}, which the store does not have"
        for word in set(re.findall(r"`([a-z]+(?:_[a-z0-9]+)+)`", text)):  # snake_case names: keys, columns, tables, functions
            assert re.search(rf"\b{word}\b", SOURCE), f"{name} names `{word}`, which no code of the project has"


def test_the_store_page_names_every_table_a_store_can_hold_and_no_other():
    from results_schema import LOOKS
    from workloads import TABLES

    page = DOCS["docs/store.md"]
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([a-z_]+)`", row.split(" | ")[0])}
    assert named == set(TABLES) | {LOOKS.name}, (sorted(set(TABLES) - named), sorted(named - set(TABLES)))
