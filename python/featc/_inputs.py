"""What featc accepts as tables: pyarrow, pandas, polars, a dict of columns, anything
with the Arrow C stream interface, or (where a file is allowed) a path."""
import os
from typing import Any, List, Optional, Sequence, Union

import pyarrow as pa


def feature_names(features: Union[None, str, Sequence[str]]) -> Optional[List[str]]:
    """Features as a list of names: one name, several, or None (every feature)."""
    if features is None:
        return None
    if isinstance(features, str):
        return [features]
    return list(features)


def is_path(obj: Any) -> bool:
    return isinstance(obj, (str, os.PathLike))


def to_arrow(obj: Any, what: str, allow_path: bool = False) -> Union[pa.Table, pa.RecordBatchReader, str]:
    """`obj` as a pyarrow Table or RecordBatchReader (read lazily), or as a path when
    `allow_path` (featc then reads the file itself, exactly as the CLI does)."""
    out = _as_arrow(obj, what, allow_path)
    if isinstance(out, pa.Table):
        return _whole_structs(out)
    if isinstance(out, pa.RecordBatchReader) and any(_has_struct(f.type) for f in out.schema):
        return pa.RecordBatchReader.from_batches(out.schema, _whole_batches(out))
    return out


def _whole_batches(reader: pa.RecordBatchReader):
    """The reader's batches, each through `_whole_structs`."""
    for batch in reader:
        yield from _whole_structs(pa.Table.from_batches([batch], schema=reader.schema)).to_batches()


def _has_struct(ty: pa.DataType) -> bool:
    """True when `ty` holds a struct at some depth (maps hold their entries as one)."""
    if pa.types.is_struct(ty) or pa.types.is_map(ty):
        return True
    if pa.types.is_list(ty) or pa.types.is_large_list(ty) or pa.types.is_fixed_size_list(ty):
        return _has_struct(ty.value_type)
    return False


def _whole_structs(table: pa.Table) -> pa.Table:
    """`table` with every sliced chunk of a column holding structs copied whole.

    pyarrow slices a struct by its own offset and leaves its children whole; the
    arrow-rs featc is built on imports such a slice through the C data interface by
    applying the offset twice and panics on a struct inside a struct
    (apache/arrow-rs#7595). A copy (`take`) has offset 0 at every level."""
    columns = []
    changed = False
    for column in table.columns:
        if _has_struct(column.type) and any(chunk.offset != 0 for chunk in column.chunks):
            chunks = [chunk.take(pa.array(range(len(chunk)), pa.int64())) for chunk in column.chunks]
            column = pa.chunked_array(chunks, column.type)
            changed = True
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=table.schema) if changed else table


def _as_arrow(obj: Any, what: str, allow_path: bool) -> Union[pa.Table, pa.RecordBatchReader, str]:
    if is_path(obj):
        if allow_path:
            return os.fspath(obj)
        raise TypeError(f"{what}: a path is not accepted here; pass a table")
    if isinstance(obj, (pa.Table, pa.RecordBatchReader)):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    if isinstance(obj, dict):
        return pa.table(obj)
    module = type(obj).__module__.split(".")[0]
    if module == "pandas":
        import pandas as pd

        if isinstance(obj, pd.DataFrame):
            # The index is not data: a spine's columns are its columns.
            return pa.Table.from_pandas(obj, preserve_index=False)
    if module == "polars":
        import polars as pl

        if isinstance(obj, pl.LazyFrame):
            obj = obj.collect()
        if isinstance(obj, pl.DataFrame):
            return obj.to_arrow()
    if hasattr(obj, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(obj)
    kinds = "a pyarrow Table, RecordBatch or RecordBatchReader, a pandas or polars DataFrame, a dict of columns"
    if allow_path:
        kinds += ", or a path to a Parquet or CSV file or folder"
    raise TypeError(f"{what}: expected {kinds}; got {type(obj).__name__}")


def with_pandas_hint(error: Exception, inputs) -> Exception:
    """`error`, with a hint when an int64 column arrived as floats from pandas (which
    stores integers with missing values as floats unless told otherwise)."""
    text = str(error)
    from_pandas = any(type(i).__module__.split(".")[0] == "pandas" for i in inputs)
    if from_pandas and "should be int64, but the data has Float" in text:
        hint = (
            "; pandas holds integers with missing values as floats: give the column a "
            'nullable integer dtype (df[col].astype("Int64")) or pass a pyarrow table'
        )
        return type(error)(text + hint)
    return error
