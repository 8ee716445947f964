"""Read review tables from the formats product teams export (CSV, TSV, JSON Lines, Parquet, Excel)."""

from __future__ import annotations

import codecs
import logging
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

import pandas as pd

from review_cls.data.sniff import (
    DELIMITERS,
    byte_order_mark,
    first_bad_json_line,
    first_undecodable_byte,
    is_json_array,
    sniffed_delimiter,
    starts_like,
)
from review_cls.errors import ConfigError, DataError

log = logging.getLogger(__name__)
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
SEPARATORS = {"csv": ",", "tsv": "\t"}
# a tab is awkward to type in an override: data.sep=tab (or the two characters \t) mean one
SEP_WORDS = {"tab": "\t", "\\t": "\t"}
NOT_A = {"excel": "an Excel workbook", "parquet": "a Parquet file"}


@dataclass(frozen=True)
class TableSource:
    """A checked table file and how to read it.

    ``prefix`` is how the command names its settings in messages: ``data.`` (train, evaluate) or nothing (predict).
    ``sep`` is the delimiter of a CSV/TSV file; ``sep_given`` whether the user chose it (then it is never doubted).
    """

    path: Path
    kind: str
    encoding: str
    sep: str | None
    sep_given: bool
    sheet_name: str | int | None
    prefix: str

    def setting(self, name: str) -> str:
        return f"{self.prefix}{name}"


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


def path_setting(prefix: str) -> str:
    """The setting that names the input file: ``data.path`` in training and evaluate, ``input`` in predict."""
    return f"{prefix}path" if prefix else "input"


def checked_sep(sep: str | None, setting: str = "data.sep") -> str | None:
    """The one-character delimiter ``sep`` means (``tab`` is a tab), or ``None`` for the format's own."""
    if sep is None:
        return None
    text = SEP_WORDS.get(str(sep), str(sep))
    if len(text) != 1 or text in "\"\r\n" or text.isalnum():
        raise ConfigError(
            f"{setting}={sep!r} is not a delimiter: use one character such as ',' ';' '|', or tab. "
            f"Pass it quoted, e.g. \"{setting}=';'\"."
        )
    return text


def check_encoding(encoding: str, setting: str = "data.encoding") -> None:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ConfigError(
            f"{setting}='{encoding}' is not an encoding Python knows. Use e.g. utf-8, utf-8-sig, cp950, big5, "
            "gb18030 or latin-1."
        ) from exc


def open_table(
    path: str | Path, sheet_name: str | int | None = None, encoding: str = "utf-8", sep: str | None = None,
    prefix: str = "data.",
) -> TableSource:
    """Check the file and settle how to read it: format from the extension, a byte-order mark over ``encoding``."""
    resolved = existing_table(path, path_setting(prefix))
    kind = table_format(resolved)
    given = checked_sep(sep, f"{prefix}sep")
    check_encoding(encoding, f"{prefix}encoding")
    if not starts_like(resolved):
        raise DataError(
            f"'{resolved}' is not {NOT_A[kind]}, whatever its extension says (a CSV file renamed to "
            f"{resolved.suffix}?). Give it the extension of what it holds (.csv, .tsv, .jsonl), or save it again "
            f"as {resolved.suffix} from the program that made it."
        )
    if kind in SEPARATORS or kind == "jsonl":
        encoding = _text_encoding(resolved, encoding)
    if resolved.suffix.lower() == ".txt" and given is None:
        log.info("Reading '%s' as tab-separated (TSV), as every .txt file; set %s for another delimiter.",
                 resolved, f"{prefix}sep")
    return TableSource(resolved, kind, encoding, given or SEPARATORS.get(kind), given is not None, sheet_name, prefix)


def _text_encoding(path: Path, requested: str) -> str:
    """A byte-order mark picks the Unicode encoding (Excel saves "Unicode text" as UTF-16 with one).

    Only when ``requested`` is a Unicode one (the default utf-8 is): a latin-1 file may well start with "ÿþ".
    """
    found = byte_order_mark(path)
    if found is None or not codecs.lookup(requested).name.startswith("utf-"):
        return requested
    codec, name = found
    if codecs.lookup(codec).name != codecs.lookup(requested).name:
        log.info("'%s' starts with a %s byte-order mark: reading it as %s.", path, name, name)
    return codec


def read_table(
    path: str | Path, sheet_name: str | int | None = None, encoding: str = "utf-8", sep: str | None = None,
    prefix: str = "data.", text_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a whole review table; errors name the file and the setting to change. ``text_columns`` of a CSV/TSV
    file keep the file's text (codes like ``002`` are not read as the number 2)."""
    source = open_table(path, sheet_name, encoding, sep, prefix)
    with _reader_errors(source):
        if source.kind in SEPARATORS:
            with _text_without_nul(source) as text:
                frame = pd.read_csv(text, sep=source.sep, dtype=dict.fromkeys(text_columns, str) or None)
        elif source.kind == "jsonl":
            frame = _read_json(source)
        elif source.kind == "parquet":
            frame = pd.read_parquet(source.path)
        else:
            frame = _read_excel(source.path, sheet_name)
    if frame.empty:
        raise DataError(f"Data file '{source.path}' has no rows.")
    frame.columns = [str(column) for column in frame.columns]
    _check_delimiter(source, list(frame.columns))
    return frame


class _NulFreeText:
    """A CSV/TSV file's decoded text with every NUL character removed, counting them and the line of the first.

    pandas < 3's C parser ends a cell at a NUL ("a\x00b" reads as "a", a cell of NULs as missing) where pandas 3
    keeps it. A NUL is never review text (it comes from a damaged export, or UTF-16 read as an 8-bit encoding), so
    the reader drops them before parsing: the same table on every pandas version, and no text cut short.
    """

    def __init__(self, file: TextIO) -> None:
        self._file = file
        self._lines = 1
        self.removed = 0
        self.first_line: int | None = None

    def read(self, size: int = -1) -> str:
        return self._without_nul(self._file.read(size))

    def __iter__(self) -> Iterator[str]:
        return (self._without_nul(line) for line in self._file)

    def _without_nul(self, text: str) -> str:
        if "\x00" not in text:
            if self.first_line is None:
                self._lines += text.count("\n")
            return text
        if self.first_line is None:
            self.first_line = self._lines + text.count("\n", 0, text.index("\x00"))
        self.removed += text.count("\x00")
        return text.replace("\x00", "")


@contextmanager
def _text_without_nul(source: TableSource) -> Iterator[_NulFreeText]:
    """Open a CSV/TSV file for pandas as text without NUL characters; say how many were removed, and where."""
    with open(source.path, encoding=source.encoding, newline="") as file:
        text = _NulFreeText(file)
        yield text
    if text.removed:
        log.warning("Removed %d NUL character(s) (\\x00, never review text) from '%s', the first on line %d. "
                    "Many of them mean a UTF-16 file without a byte-order mark: then set %s=utf-16.",
                    text.removed, source.path, text.first_line, source.setting("encoding"))


def _read_json(source: TableSource, chunk_size: int | None = None) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """JSON Lines, chunked when ``chunk_size`` is given; a JSON array (one object per review) is read whole. Values
    keep the types JSON gives them (``dtype=False``): a date stays the text it was, a label code "002" stays "002"."""
    if is_json_array(source.path, source.encoding):
        log.info("'%s' is a JSON array, not JSON Lines: reading it whole.", source.path)
        frame = pd.read_json(source.path, orient="records", encoding=source.encoding, convert_axes=False, dtype=False)
        return frame if chunk_size is None else _slices(frame, chunk_size)
    return pd.read_json(source.path, lines=True, encoding=source.encoding, chunksize=chunk_size, convert_axes=False,
                        dtype=False)


def _slices(frame: pd.DataFrame, chunk_size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), chunk_size):
        yield frame.iloc[start : start + chunk_size]


def _check_delimiter(source: TableSource, columns: list[str]) -> None:
    """One column whose name holds another delimiter: the file is not separated the way it was read.

    Decided from the header alone (the most frequent other delimiter in it), so it never depends on the sniffer.
    """
    if source.kind not in SEPARATORS or source.sep_given or len(columns) != 1:
        return
    counts = {delimiter: columns[0].count(delimiter) for delimiter in DELIMITERS if delimiter != source.sep}
    found = max(counts, key=counts.__getitem__)
    if counts[found]:
        raise DataError(f"'{source.path}' reads as one column named {columns[0]!r}.{_delimiter_hint(source, found)}")


def _delimiter_hint(source: TableSource, found: str | None) -> str:
    """" The file seems to use ';' ..." when ``found`` (the sniffed delimiter) is not the one used, else ``""``."""
    if found is None or found == source.sep:
        return ""
    name, value = DELIMITERS[found]
    used = DELIMITERS.get(str(source.sep), (repr(source.sep),))[0]
    return f" The file seems to use {name} as delimiter, not {used}: pass \"{source.setting('sep')}={value}\"."


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


def existing_table(path: str | Path, setting: str = "data.path") -> Path:
    """The resolved path of a table that must exist; messages name ``setting``, the option that gave the path."""
    resolved = resolve_input_path(path)
    if resolved.is_dir():
        tables = sorted(child.name for child in resolved.iterdir() if child.suffix.lower() in READERS)[:3]
        inside = f" (it holds e.g. {', '.join(tables)})" if tables else ""
        raise DataError(f"'{resolved}' is a folder, not a file{inside}: set {setting} to one table file.")
    if not resolved.is_file():
        raise DataError(f"Data file '{resolved}' does not exist (working directory: {Path.cwd()}).")
    if resolved.stat().st_size == 0:
        raise DataError(f"Data file '{resolved}' is empty (0 bytes). Export the reviews again or point {setting} elsewhere.")
    return resolved


@contextmanager
def _reader_errors(source: TableSource) -> Iterator[None]:
    """Turn what pandas, pyarrow and openpyxl raise on a bad file into a :class:`DataError` saying what to do."""
    path, kind, encoding = source.path, source.kind, source.encoding
    try:
        yield
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise _decode_error(source, exc) from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"Data file '{path}' is empty.") from exc
    except pd.errors.ParserError as exc:
        hint = _delimiter_hint(source, sniffed_delimiter(path, encoding))
        raise DataError(f"Cannot read '{path}' as {kind}: {str(exc).strip()}.{hint}") from exc
    except ValueError as exc:
        bad_line = first_bad_json_line(path, encoding) if kind == "jsonl" else None
        if bad_line is None:
            raise DataError(f"Cannot read '{path}' as {kind}: {exc}") from exc
        number, reason, start = bad_line
        raise DataError(f"Cannot read '{path}' as JSON Lines: line {number} is not one JSON object ({reason}): "
                        f"{start!r}. Fix or remove that line.") from exc
    except (OSError, ImportError, zipfile.BadZipFile) as exc:
        raise DataError(f"Cannot read '{path}' as {kind}: {exc}") from exc


def _decode_error(source: TableSource, exc: UnicodeDecodeError) -> DataError:
    """Where the first undecodable byte really is (pandas counts from its read buffer), and what to set."""
    found = first_undecodable_byte(source.path, source.encoding)
    where = f"byte {found[0]} (line {found[1]})" if found else f"byte {exc.start}"
    setting = source.setting("encoding")
    return DataError(
        f"Cannot decode '{source.path}' as {source.encoding}: {exc.reason} at {where}. "
        f"Set the file's encoding, e.g. {setting}=cp950 or {setting}=latin-1."
    )


def iter_table_chunks(
    path: str | Path, chunk_size: int, sheet_name: str | int | None = None, encoding: str = "utf-8",
    as_text: bool = False, sep: str | None = None, prefix: str = "data.",
) -> Iterator[pd.DataFrame]:
    """Read a review table ``chunk_size`` rows at a time, so memory stays flat however long the file is.

    Each chunk's index numbers the table's data rows from 0 across chunks. ``as_text`` keeps CSV/TSV cells as the
    file's exact text, so columns copied through (ids, dates) come out unchanged instead of re-inferred per chunk
    (an int column with a gap in one chunk would otherwise turn into floats there).
    """
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be >= 1, got {chunk_size}.")
    source = open_table(path, sheet_name, encoding, sep, prefix)
    rows = 0
    with _reader_errors(source):
        for chunk in _raw_chunks(source, chunk_size, as_text):
            if chunk.empty:
                continue
            chunk.columns = [str(column) for column in chunk.columns]
            if rows == 0:
                _check_delimiter(source, list(chunk.columns))
            chunk.index = pd.RangeIndex(rows, rows + len(chunk))
            rows += len(chunk)
            yield chunk
    if rows == 0:
        raise DataError(f"Data file '{source.path}' has no rows.")


def count_rows(path: str | Path, sheet_name: str | int | None = None, prefix: str = "data.") -> int | None:
    """Row count when the file states it (Parquet metadata, Excel sheet dimensions); ``None`` for text formats."""
    resolved = existing_table(path, path_setting(prefix))
    kind = table_format(resolved)
    with _reader_errors(TableSource(resolved, kind, "utf-8", None, False, sheet_name, prefix)):
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


def _raw_chunks(source: TableSource, chunk_size: int, as_text: bool) -> Iterator[pd.DataFrame]:
    """The format's own streaming reader; only old ``.xls`` files and JSON arrays are read whole."""
    path = source.path
    if source.kind in SEPARATORS:
        dtype = str if as_text else None
        with _text_without_nul(source) as text, pd.read_csv(text, sep=source.sep, chunksize=chunk_size,
                                                             dtype=dtype) as reader:
            yield from reader
    elif source.kind == "jsonl":
        yield from _read_json(source, chunk_size)
    elif source.kind == "parquet":
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as parquet:
            for batch in parquet.iter_batches(batch_size=chunk_size):
                yield batch.to_pandas()
    elif path.suffix.lower() in STREAMED_EXCEL:
        yield from _excel_chunks(path, chunk_size, source.sheet_name)
    else:
        yield from _slices(_read_excel(path, source.sheet_name), chunk_size)


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
