"""Every grid form's bad value is one line: a product, a union or zipped axes, with one axis's
values made wrong in every way a hand can make them wrong, is refused with one line naming the
file, its line and the key, exit code 2, and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.cli import cli

BAD_VALUES = {
    "a scalar": 5,
    "a string": "five",
    "a mapping": {"a": 1},
    "null": None,
    "an empty list": [],
    "a huge count": {"linspace": [0, 1, 10**12]},
    "a negative count": {"logspace": [0, 1, -3]},
    "a count that is not whole": {"linspace": [0, 1, 2.5]},
}


def forms(axis: str, bad: object) -> dict[str, tuple[object, str]]:
    """Each grid form with `axis`'s values replaced by `bad`, and the key an error must name."""
    good = {"k": [5, 10], "L": [0, 4]}
    wrong = {**good, axis: bad}
    other = "L" if axis == "k" else "k"
    return {
        "product": (wrong, f"grid.{axis}"),
        "union": ([{"k": [3]}, wrong], f"grid[1].{axis}"),
        "zip": ({"zip": wrong}, f"grid.zip.{axis}"),
        "zip in a union": ([good, {"zip": wrong}], f"grid[1].zip.{axis}"),
        "zip beside an axis": ({other: good[other], "zip": {axis: bad}}, f"grid.zip.{axis}"),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=st.sampled_from(["product", "union", "zip", "zip in a union", "zip beside an axis"]), axis=st.sampled_from(["k", "L"]),
       bad=st.sampled_from(sorted(BAD_VALUES)))
def test_one_wrong_value_in_any_grid_form_is_one_line_naming_file_line_and_key_and_writes_nothing(tmp_path_factory, form, axis, bad):
    folder = tmp_path_factory.mktemp("grid")
    grid, key = forms(axis, BAD_VALUES[bad])[form]
    path = folder / "bad.yaml"
    path.write_text("name: bad\nexperiment: manifold_classification\n" + f"grid: {json.dumps(grid)}\n" + "seeds: [0]\n")
    store = folder / "store"
    result = CliRunner().invoke(cli, ["launch", str(path), "--store", str(store), "--dry-run"])
    message = result.output.strip()
    assert result.exit_code == 2, result.output
    assert len(message.splitlines()) == 1 and "Traceback" not in message, message
    assert message.startswith(f"Error: {path}:3: {key}"), (message, key)
    assert not Path(store).exists()
