"""Apache Parquet."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from palmares.core import DatasetSpec, InputError
from palmares.tasks.loaders._base import Rows


def load(location: str, spec: DatasetSpec) -> Rows:
    try:
        table = pq.read_table(location)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read Parquet: {exc}", file=location) from None
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    return Rows(columns, table.num_rows, location)
