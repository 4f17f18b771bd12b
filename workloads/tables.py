"""Tables several experiments write (declared once, torch-free: the driver reads the store too)."""

from __future__ import annotations

import pyarrow as pa

from results_schema import Column, Table

SPECTRA = Table(
    name="spectra",
    doc="One row per (trial, eval step, target frequency): how much of each frequency the net has learned (Experiments 1 and 2).",
    columns=(
        Column("trial_id", pa.string(), "the trial (see trials.trial_id)"),
        Column("step", pa.int64(), "optimizer steps done when the spectrum was taken"),
        Column("k", pa.int64(), "target frequency k_i (periods over the latent z)"),
        Column("amplitude", pa.float64(), "the target's amplitude A_i at k_i"),
        Column("magnitude", pa.float64(), "|F(k_i)| of the net's function on the latent grid: (2/N)|rfft|, a sinusoid of amplitude A reads A"),
        Column("normalized_magnitude", pa.float64(), "magnitude / amplitude: 1 when the frequency is fully learned"),
    ),
)
