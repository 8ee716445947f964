"""Read review tables from the formats product teams export (CSV, TSV, JSON Lines, Parquet, Excel)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import pandas as pd

from review_cls.errors import ConfigError, DataError

DEMO_PREFIX = "demo:"
READERS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "tsv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
}
# openpyxl streams these row by row; old .xls files are read whole
STREAMED_EXCEL = (".xlsx", ".xlsm")


def resolve_input_path(path: str | Path | None) -> Path:
    """Turn a user path, or ``demo:<file>`` for the demo data shipped in the package, into a real path."""
    if path is None or str(path).strip() == "":
        raise DataError("No data file given: set data.path=<your file> (e.g. data=file data.path=reviews.csv).")
    text = str(path)
    if text.startswith(DEMO_PREFIX):
        name = text[len(DEMO_PREFIX) :]
        resolved = Path(str(resources.files("review_cls.data") / "demo" / name))
        if not resolved.is_file():
            raise DataError(f"No demo dataset named '{name}' in {resolved.parent}.")
        return resolved
    return Path(text).expanduser()


def table_format(path: Path) -> str:
    """Name the reader for ``path`` from its extension, or explain which extensions work."""
    suffix = path.suffix.lower()
    if suffix not in READERS:
        known = ", ".join(sorted(READERS))
        raise DataError(f"Cannot read '{path}': unknown extension '{suffix or '(none)'}'. Use one of: {known}.")
    return READERS[suffix]


def read_table(path: str | Path, sheet_name: str | int | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a whole review table; errors name the file and what to do about it."""
    resolved = existing_table(path)
    kind = table_format(resolved)
    with _reader_errors(resolved, kind, encoding):
        if kind == "csv":
            frame = pd.read_csv(resolved, encoding=encoding)
        elif kind == "tsv":
            frame = pd.read_csv(resolved, sep="\t", encoding=encoding)
        elif kind == "jsonl":
            frame = pd.read_json(resolved, lines=True, encoding=encoding)
        elif kind == "parquet":
            frame = pd.read_parquet(resolved)
        else:
            frame = _read_excel(resolved, sheet_name)
    if frame.empty:
        raise DataError(f"Data file '{resolved}' has no rows.")
    frame.columns = [str(column) for column in frame.columns]
    return frame


def _read_excel(path: Path, sheet_name: str | int | None) -> pd.DataFrame:
    """Read one sheet; a missing sheet is reported with the sheets that exist."""
    with pd.ExcelFile(path) as workbook:
        return workbook.parse(_pick_sheet(path, workbook.sheet_names, sheet_name))


def _pick_sheet(path: Path, sheets: list[str], sheet_name: str | int | None) -> str:
    """The sheet ``sheet_name`` names (default: the first); a missing one is reported with the sheets that exist."""
    wanted = 0 if sheet_name is None else sheet_name
    if isinstance(wanted, str) and wanted not in sheets:
        raise DataError(f"Excel file '{path}' has no sheet '{wanted}'. Sheets: {', '.join(map(str, sheets))}.")
    if isinstance(wanted, int) and not 0 <= wanted < len(sheets):
        raise DataError(f"Excel file '{path}' has no sheet number {wanted}; it has {len(sheets)} sheet(s).")
    return sheets[wanted] if isinstance(wanted, int) else wanted


def existing_table(path: str | Path) -> Path:
    """The resolved path of a table that must exist; a missing one is named with the working directory."""
    resolved = resolve_input_path(path)
    if not resolved.is_file():
        raise DataError(f"Data file '{resolved}' does not exist (working directory: {Path.cwd()}).")
    if resolved.stat().st_size == 0:
        raise DataError(f"Data file '{resolved}' is empty (0 bytes). Export the reviews again or point data.path elsewhere.")
    return resolved


@contextmanager
def _reader_errors(path: Path, kind: str, encoding: str) -> Iterator[None]:
    """Turn what pandas, pyarrow and openpyxl raise on a bad file into a :class:`DataError` saying what to do."""
    try:
        yield
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise DataError(
            f"Cannot decode '{path}' as {encoding}: {exc.reason} at byte {exc.start}. "
            "Set the file's encoding, e.g. data.encoding=cp950 or data.encoding=latin-1."
        ) from exc
    except LookupError as exc:
        raise DataError(
            f"Cannot read '{path}': data.encoding='{encoding}' is not an encoding Python knows ({exc}). "
            "Use e.g. utf-8, utf-8-sig, cp950, big5, gb18030 or latin-1."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"Data file '{path}' is empty.") from exc
    except (ValueError, pd.errors.ParserError, OSError, ImportError, zipfile.BadZipFile) as exc:
        raise DataError(f"Cannot read '{path}' as {kind}: {exc}") from exc


def iter_table_chunks(
    path: str | Path, chunk_size: int, sheet_name: str | int | None = None, encoding: str = "utf-8",
    as_text: bool = False,
) -> Iterator[pd.DataFrame]:
    """Read a review table ``chunk_size`` rows at a time, so memory stays flat however long the file is.

    Each chunk's index numbers the table's data rows from 0 across chunks. ``as_text`` keeps CSV/TSV cells as the
    file's exact text, so columns copied through (ids, dates) come out unchanged instead of re-inferred per chunk
    (an int column with a gap in one chunk would otherwise turn into floats there).
    """
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be >= 1, got {chunk_size}.")
    resolved = existing_table(path)
    kind = table_format(resolved)
    rows = 0
    with _reader_errors(resolved, kind, encoding):
        for chunk in _raw_chunks(resolved, kind, chunk_size, sheet_name, encoding, as_text):
            if chunk.empty:
                continue
            chunk.columns = [str(column) for column in chunk.columns]
            chunk.index = pd.RangeIndex(rows, rows + len(chunk))
            rows += len(chunk)
            yield chunk
    if rows == 0:
        raise DataError(f"Data file '{resolved}' has no rows.")


def count_rows(path: str | Path, sheet_name: str | int | None = None) -> int | None:
    """Row count when the file states it (Parquet metadata, Excel sheet dimensions); ``None`` for text formats."""
    resolved = existing_table(path)
    kind = table_format(resolved)
    with _reader_errors(resolved, kind, "utf-8"):
        if kind == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(resolved).metadata.num_rows
        if kind == "excel" and resolved.suffix.lower() in STREAMED_EXCEL:
            from openpyxl import load_workbook

            workbook = load_workbook(resolved, read_only=True, data_only=True)
            try:
                sheet = workbook[_pick_sheet(resolved, workbook.sheetnames, sheet_name)]
                return max(sheet.max_row - 1, 0) if sheet.max_row else None
            finally:
                workbook.close()
    return None


def _raw_chunks(
    path: Path, kind: str, chunk_size: int, sheet_name: str | int | None, encoding: str, as_text: bool
) -> Iterator[pd.DataFrame]:
    """The format's own streaming reader; only old ``.xls`` files (at most 65,536 rows) are read whole."""
    if kind in ("csv", "tsv"):
        sep = "," if kind == "csv" else "\t"
        dtype = str if as_text else None
        with pd.read_csv(path, sep=sep, encoding=encoding, chunksize=chunk_size, dtype=dtype) as reader:
            yield from reader
    elif kind == "jsonl":
        with pd.read_json(path, lines=True, encoding=encoding, chunksize=chunk_size) as reader:
            yield from reader
    elif kind == "parquet":
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as parquet:
            for batch in parquet.iter_batches(batch_size=chunk_size):
                yield batch.to_pandas()
    elif path.suffix.lower() in STREAMED_EXCEL:
        yield from _excel_chunks(path, chunk_size, sheet_name)
    else:
        frame = _read_excel(path, sheet_name)
        for start in range(0, len(frame), chunk_size):
            yield frame.iloc[start : start + chunk_size]


def _excel_chunks(path: Path, chunk_size: int, sheet_name: str | int | None) -> Iterator[pd.DataFrame]:
    """Stream an .xlsx sheet with openpyxl's read-only mode: first row is the header, blank rows are skipped."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook[_pick_sheet(path, workbook.sheetnames, sheet_name)]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        columns = [f"Unnamed: {i}" if name is None else str(name) for i, name in enumerate(header)]
        buffer: list[tuple] = []
        for row in rows:
            if all(value is None for value in row):
                continue
            buffer.append(row[: len(columns)])
            if len(buffer) == chunk_size:
                yield pd.DataFrame(buffer, columns=columns)
                buffer = []
        if buffer:
            yield pd.DataFrame(buffer, columns=columns)
    finally:
        workbook.close()
