"""Append DataFrame chunks to one output table whose format follows its extension (CSV, TSV, JSONL, Parquet, XLSX)."""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pandas as pd

from review_cls.errors import DataError

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)
WRITERS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".parquet": "parquet", ".xlsx": "excel"}
EXCEL_MAX_ROWS = 1_048_575  # one sheet's rows, less the header
EXCEL_MAX_CHARACTERS = 32_767  # one cell's text: Excel cuts or refuses a longer one


def output_format(path: Path) -> str:
    """Name the writer for ``path`` from its extension, or explain which extensions work."""
    suffix = path.suffix.lower()
    if suffix not in WRITERS:
        raise DataError(
            f"Cannot write '{path}': unknown extension '{suffix or '(none)'}'. Use one of: {', '.join(WRITERS)}."
        )
    return WRITERS[suffix]


def cast_to_schema(table: pa.Table, schema: pa.Schema, output: Path) -> pa.Table:
    """``table`` with the first chunk's column types (``schema``): a column whose type changes between chunks (a gap
    turning ints into floats) is written as the first chunk typed it; one that cannot be cast is a DataError."""
    import pyarrow as pa

    if table.schema.equals(schema):
        return table
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataError(
            f"Cannot write '{output}' as Parquet: a column changes type between chunks ({exc}). "
            "Write .csv or .jsonl instead, or raise chunk_size."
        ) from exc


class TableWriter:
    """Streams chunks into ``path`` (write it to a temporary path and rename, see :mod:`review_cls.utils.atomic`).

    Columns and their types are fixed by the first chunk; Parquet casts later chunks to that schema. ``output`` is
    the file the user asked for, named in messages instead of the temporary ``path`` (default: ``path``).
    """

    def __init__(self, path: Path, kind: str, output: Path | None = None) -> None:
        self.path = path
        self.kind = kind
        self.output = output or path
        self.rows = 0
        self.cleaned_cells = 0
        self.cut_cells = 0  # Excel: texts longer than a cell holds, cut to EXCEL_MAX_CHARACTERS
        self._sink: Any = None

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close(save=exc is None)

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind in ("csv", "tsv"):
            self._write_text(frame)
        elif self.kind == "jsonl":
            self._write_jsonl(frame)
        elif self.kind == "parquet":
            self._write_parquet(frame)
        else:
            self._write_excel(frame)
        self.rows += len(frame)

    def close(self, save: bool = True) -> None:
        """Flush and close; an Excel workbook is only assembled when ``save`` (it is built at the end)."""
        if self._sink is None:
            return
        if self.kind == "excel":
            if save:
                self._sink.save(self.path)
                self._report_cleaned_cells()
            self._sink.close()
        else:
            self._sink.close()
        self._sink = None

    def _write_text(self, frame: pd.DataFrame) -> None:
        if self._sink is None:
            self._sink = open(self.path, "w", encoding="utf-8", newline="")
        # CRLF rows, as RFC 4180 and Excel: the csv module then quotes a cell holding a lone "\r" too (with "\n"
        # rows it does not, and every reader takes that "\r" for the end of the row)
        frame.to_csv(self._sink, sep="," if self.kind == "csv" else "\t", index=False, header=self.rows == 0,
                     lineterminator="\r\n")

    def _write_jsonl(self, frame: pd.DataFrame) -> None:
        if self._sink is None:
            self._sink = open(self.path, "w", encoding="utf-8")
        frame.to_json(self._sink, orient="records", lines=True, force_ascii=False, date_format="iso")

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._sink is None:
            self._sink = pq.ParquetWriter(self.path, table.schema)
        self._sink.write_table(cast_to_schema(table, self._sink.schema, self.output))

    def _write_excel(self, frame: pd.DataFrame) -> None:
        from openpyxl import Workbook

        if self.rows + len(frame) > EXCEL_MAX_ROWS:
            raise DataError(f"Cannot write '{self.output}': more than {EXCEL_MAX_ROWS:,} rows do not fit one Excel "
                            "sheet. Write .csv, .jsonl or .parquet instead.")
        if self._sink is None:
            self._sink = Workbook(write_only=True)
            self._sheet = self._sink.create_sheet("predictions")
            self._sheet.append([self._excel_text(str(name)) for name in frame.columns])
        cells = frame.astype(object).where(frame.notna(), None)
        for row in cells.itertuples(index=False, name=None):
            self._sheet.append([self._excel_text(cell) if isinstance(cell, str) else cell for cell in row])

    def _excel_text(self, text: str) -> str:
        """``text`` without the control characters an Excel cell cannot hold (openpyxl refuses them) and cut to the
        characters it holds, both counted."""
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        cleaned = ILLEGAL_CHARACTERS_RE.sub("", text)
        self.cleaned_cells += cleaned != text
        self.cut_cells += len(cleaned) > EXCEL_MAX_CHARACTERS
        return cleaned[:EXCEL_MAX_CHARACTERS]

    def _report_cleaned_cells(self) -> None:
        if self.cleaned_cells:
            log.warning("%d cell(s) held control characters (such as \\x01 or \\x1b) an Excel cell cannot store: "
                        "removed them in '%s'. Write .csv, .jsonl or .parquet to keep them.", self.cleaned_cells,
                        self.output)
        if self.cut_cells:
            log.warning("%d cell(s) held more than the %s characters an Excel cell can store: cut there in '%s'. "
                        "Write .csv, .jsonl or .parquet to keep the whole texts.", self.cut_cells,
                        f"{EXCEL_MAX_CHARACTERS:,}", self.output)
