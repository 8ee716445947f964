"""What ``predict engine=ray`` reads and how its parts are named: a file, a folder or a glob of review tables, read by
Ray Data tasks (one per file) through the local predict's own reader, so every cell and type is what ``engine=local``
would predict on; the written parts are named so that they sort in input order."""

from __future__ import annotations

import glob
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from ray.data import Datasource, ReadTask
from ray.data.block import BlockMetadata
from ray.data.datasource import FilenameProvider

from review_cls.data.io import READERS, existing_table, iter_table_chunks
from review_cls.errors import DataError
from review_cls.inference.prediction_parts import part_stem

GLOB_CHARACTERS = "*?["


@dataclass(frozen=True)
class TableReading:
    """How every input file is read: the predict settings of the same names (``chunk_size`` rows per block)."""

    chunk_size: int
    sheet_name: str | int | None
    encoding: str
    sep: str | None

    def chunks(self, path: Path) -> Iterator[pd.DataFrame]:
        """``path`` in blocks of ``chunk_size`` rows, each cell as the file's text (as ``engine=local`` reads it)."""
        for chunk in iter_table_chunks(path, self.chunk_size, self.sheet_name, self.encoding, as_text=True,
                                       sep=self.sep, prefix=""):
            yield chunk.reset_index(drop=True)


def input_files(pattern: str) -> list[Path]:
    """The table files ``input`` names, in the order their rows are predicted and written: one file, the table
    files of a folder (not its subfolders), or the files a glob matches; each sorted by name."""
    if any(character in pattern for character in GLOB_CHARACTERS):
        found = sorted(Path(name) for name in glob.glob(str(Path(pattern).expanduser())))
        tables = [path for path in found if path.is_file() and path.suffix.lower() in READERS]
        if not tables:
            raise DataError(f"input='{pattern}' matches no table file ({', '.join(sorted(READERS))}).")
        return [existing_table(path, "input") for path in tables]
    folder = Path(pattern).expanduser()
    if not folder.is_dir():
        return [existing_table(pattern, "input")]
    tables = sorted(path for path in folder.iterdir()
                    if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in READERS)
    if not tables:
        raise DataError(f"input='{pattern}' is a folder without table files ({', '.join(sorted(READERS))}).")
    return [existing_table(path, "input") for path in tables]


def first_chunk(files: list[Path], reading: TableReading) -> pd.DataFrame:
    """The first block of the first file (its columns and texts are checked as the local predict checks them);
    every other file must have the same columns, in the same order, for the parts to form one table."""
    head = next(reading.chunks(files[0]))
    for path in files[1:]:
        columns = list(next(reading.chunks(path)).columns)
        if columns != list(head.columns):
            raise DataError(
                f"'{path}' has the columns {', '.join(columns)}; '{files[0]}' has {', '.join(head.columns)}. "
                "Every input file of one predict run needs the same columns in the same order.")
    return head


class TableDatasource(Datasource):
    """The input files as a Ray Data source: one read task per file, yielding blocks of ``chunk_size`` rows."""

    def __init__(self, files: list[Path], reading: TableReading) -> None:
        super().__init__()
        self.files = files
        self.reading = reading

    def estimate_inmemory_data_size(self) -> int:
        return sum(path.stat().st_size for path in self.files)

    def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                       data_context: object = None) -> list[ReadTask]:
        return [ReadTask(self._reader(path), BlockMetadata(num_rows=None, size_bytes=path.stat().st_size,
                                                           input_files=[str(path)], exec_stats=None),
                         per_task_row_limit=per_task_row_limit)
                for path in self.files]

    def _reader(self, path: Path):
        reading = self.reading
        return lambda: reading.chunks(path)


class PartNames(FilenameProvider):
    """``part-<write task number>``: Ray Data numbers its write tasks in input order when it preserves the order."""

    def get_filename_for_task(self, write_uuid: str, task_index: int) -> str:
        return part_stem(task_index)
