"""Read review tables from the formats product teams export (CSV, TSV, JSON Lines, Parquet, Excel)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from review_cls.errors import DataError

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


def resolve_input_path(path: str | Path) -> Path:
    """Turn a user path, or ``demo:<file>`` for the demo data shipped in the package, into a real path."""
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
    resolved = resolve_input_path(path)
    if not resolved.is_file():
        raise DataError(f"Data file '{resolved}' does not exist (working directory: {Path.cwd()}).")
    kind = table_format(resolved)
    try:
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
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise DataError(
            f"Cannot decode '{resolved}' as {encoding}: {exc.reason} at byte {exc.start}. "
            "Set the file's encoding, e.g. data.encoding=cp950 or data.encoding=latin-1."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"Data file '{resolved}' is empty.") from exc
    except (ValueError, pd.errors.ParserError, OSError, ImportError) as exc:
        raise DataError(f"Cannot read '{resolved}' as {kind}: {exc}") from exc
    if frame.empty:
        raise DataError(f"Data file '{resolved}' has no rows.")
    frame.columns = [str(column) for column in frame.columns]
    return frame


def _read_excel(path: Path, sheet_name: str | int | None) -> pd.DataFrame:
    """Read one sheet; a missing sheet is reported with the sheets that exist."""
    with pd.ExcelFile(path) as workbook:
        sheets = workbook.sheet_names
        wanted = 0 if sheet_name is None else sheet_name
        if isinstance(wanted, str) and wanted not in sheets:
            raise DataError(f"Excel file '{path}' has no sheet '{wanted}'. Sheets: {', '.join(map(str, sheets))}.")
        if isinstance(wanted, int) and not 0 <= wanted < len(sheets):
            raise DataError(f"Excel file '{path}' has no sheet number {wanted}; it has {len(sheets)} sheet(s).")
        return workbook.parse(wanted)
