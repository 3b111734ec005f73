"""The Parquet row schema of a run: one row per evaluation, shared by the harness and analysis.

Rows for architectures an optimizer re-visited carry ``repeat=True``: they cost no query and
their ``query_index`` repeats the last counted one. Metrics beyond ``fitness`` and
``reported`` are added as further float columns named ``metric.<name>``.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "1"
#: file-metadata keys (values are UTF-8 JSON or plain strings)
META_SCHEMA_VERSION = b"ednag.results.schema_version"
META_CONFIG = b"ednag.config"
META_VERSIONS = b"ednag.versions"

EXTRA_METRIC_PREFIX = "metric."

RESULT_SCHEMA = pa.schema(
    [
        pa.field("benchmark", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("optimizer", pa.string(), nullable=False),
        pa.field("seed", pa.int64(), nullable=False),
        pa.field("eval_index", pa.int64(), nullable=False),  # 0-based order within the run
        pa.field("query_index", pa.int64(), nullable=False),  # distinct queries so far, 1-based
        pa.field("arch", pa.string(), nullable=False),  # the space's native string
        pa.field("arch_key", pa.string(), nullable=False),  # canonical key (one query per key)
        pa.field("fitness", pa.float64()),  # what the optimizer saw (NaN for a failed eval)
        pa.field("reported", pa.float64()),  # headline metric, never shown to the optimizer
        pa.field("repeat", pa.bool_(), nullable=False),
        pa.field("generation", pa.int64()),  # population methods only
        pa.field("status", pa.string(), nullable=False),  # "ok" or "error"
        pa.field("sim_time_s", pa.float64()),  # simulated completion time (tabular mode)
        pa.field("wall_time_s", pa.float64()),  # wall-clock seconds since the run started
    ]
)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(RESULT_SCHEMA.names)
