"""The Parquet result store, following the contract in results_schema, in four parts:

- files.py: the store's directory, its marker, and atomic, durable commits;
- parts.py: a sweep's rows as part files (flushes, superseded rows, cleaning up, compaction);
- reading.py: a table's committed rows as a DataFrame, whatever a writer does meanwhile;
- sweeps.py: a sweep as a whole (its saved spec, prepared states, figures, removal).

Storage knows no experiment: where it needs the tables (to check a flush, to visit every table)
the caller passes their declarations (workloads.TABLES). orchestrator.results reads the store as
the experiments declare it (ResultStore, StoredSweep).
"""

from orchestrator.paths import inside
from orchestrator.store.files import STORE_FORMAT, check_store, check_store_path, open_store, store_id
from orchestrator.store.parts import (
    clean_uncommitted,
    committed_flushes,
    compact,
    damaged_flushes,
    new_flush_id,
    set_aside,
    stored_sweeps,
    superseded_rows,
    write_flush,
    write_trial,
)
from orchestrator.store.reading import damaged_parts, finished_trial_ids, read_table, stored_trial_ids
from orchestrator.store.repair import Repair, repair_store, repair_sweep
from orchestrator.store.sweeps import (
    GROWABLE_SPEC_KEYS,
    drawn_figures,
    figures_folder,
    prepared_ids,
    prepared_info,
    read_prepared,
    record_figures,
    remove_sweep,
    save_sweep,
    saved_sweep,
    spec_conflict,
    write_prepared,
)

__all__ = [
    "GROWABLE_SPEC_KEYS", "STORE_FORMAT", "Repair", "check_store", "check_store_path", "clean_uncommitted", "committed_flushes",
    "compact", "damaged_flushes", "damaged_parts", "drawn_figures", "figures_folder", "finished_trial_ids", "inside", "new_flush_id",
    "open_store", "prepared_ids", "prepared_info", "read_prepared", "read_table", "record_figures", "remove_sweep", "repair_store", "repair_sweep",
    "save_sweep", "saved_sweep", "set_aside", "spec_conflict", "store_id", "stored_sweeps", "stored_trial_ids", "superseded_rows",
    "write_flush", "write_prepared", "write_trial",
]
