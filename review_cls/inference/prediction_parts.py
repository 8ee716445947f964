"""The output of ``predict engine=ray``: a folder of Parquet parts whose names sort in input order, checked before the
run, given the first part's column types after it (as the local predict's file has its first chunk's), and read back
part by part for the insights."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from review_cls.data.writers import cast_to_schema
from review_cls.errors import ConfigError
from review_cls.inference.prediction_files import check_insights_folder, insights_folder
from review_cls.utils.atomic import atomic_file

# Ray's Parquet writer names a write task's files <stem>-<i>.parquet; the stem carries the task's number
PART = re.compile(r"part-(\d+)-(\d+)\.parquet")


def part_stem(task_index: int) -> str:
    """The name of the ``task_index``-th write task's part (Ray Data numbers the tasks in input order)."""
    return f"part-{task_index:08d}.parquet"


def part_files(folder: Path) -> list[Path]:
    """The parts in ``folder``, in input order."""
    numbered = {path: PART.fullmatch(path.name) for path in folder.iterdir()}
    return sorted((path for path, match in numbered.items() if match),
                  key=lambda path: tuple(int(number) for number in numbered[path].groups()))


def check_output_folder(output: Path, inputs: list[Path], insights: bool, overwrite: bool) -> None:
    """Every place ``engine=ray`` writes, checked before Ray starts: nothing the user has is lost, and an earlier
    run's parts folder and insights are replaced only with ``overwrite``."""
    if output.exists() and not output.is_dir():
        raise ConfigError(f"output='{output}' is a file; engine=ray writes a folder of Parquet parts: name a folder, "
                          f"e.g. output={output.with_suffix('')}.")
    resolved = output.resolve()
    inside = next((path for path in inputs if resolved == path.resolve().parent or resolved in path.resolve().parents),
                  None)
    if inside is not None:
        raise ConfigError(f"output='{output}' holds the input '{inside}'; write the predictions to a new folder.")
    if output.is_dir():
        foreign = sorted(path.name for path in output.iterdir() if not PART.fullmatch(path.name) or path.is_dir())
        if foreign:
            raise ConfigError(
                f"output='{output}' holds files predict did not write ({', '.join(foreign[:5])}). engine=ray replaces "
                "the output folder as a whole: choose a new or empty folder.")
    folder = insights_folder(output)
    if insights and folder.exists():
        check_insights_folder(folder, output)
    earlier = [path for path in (output, folder)
               if path.exists() and (insights or path == output) and (path != output or any(output.iterdir()))]
    if earlier and not overwrite:
        raise ConfigError(f"'{earlier[0]}' exists (an earlier run?); pass overwrite=true to replace it, or "
                          "choose another output name.")


def give_parts_one_schema(parts: list[Path], output: Path) -> None:
    """Rewrite each part whose column types differ from the first part's with the first part's types, so the folder
    reads as one table (types are inferred per block, and a block of gaps can turn an int column into floats)."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(parts[0])
    for part in parts[1:]:
        if pq.read_schema(part).equals(schema):
            continue
        table = cast_to_schema(pq.read_table(part), schema, output)
        with atomic_file(part) as temporary:
            pq.write_table(table, temporary)


def part_chunks(parts: list[Path], rows: int) -> Iterator[pd.DataFrame]:
    """The parts' rows, ``rows`` at a time, indexed by their row number across the whole input (as the local
    predict's chunks are)."""
    import pyarrow.parquet as pq

    start = 0
    for part in parts:
        with pq.ParquetFile(part) as parquet:
            for batch in parquet.iter_batches(batch_size=rows):
                chunk = batch.to_pandas()
                chunk.index = pd.RangeIndex(start, start + len(chunk))
                start += len(chunk)
                yield chunk
