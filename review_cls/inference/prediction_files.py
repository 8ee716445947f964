"""Where predictions go, checked before the first review is scored (predict and select): nothing the user has is
lost, an earlier run's files are replaced only with ``overwrite``, and the text column holds texts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from review_cls.errors import ConfigError, DataError
from review_cls.reports.insights import INSIGHT_FILES
from review_cls.utils.atomic import refuse_writing_over_inputs

NUMBER = r"[-+]?\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?"


def insights_folder(output: Path) -> Path:
    """``predictions.csv`` -> ``predictions_insights/`` in the same folder."""
    return output.with_name(f"{output.stem}_insights")


def check_output_locations(output: Path, read: Mapping[str, str | Path | None], insights: bool, overwrite: bool,
                           setting: str = "output") -> None:
    """Every place predict (or select) writes, checked before the first review is predicted: nothing the user has
    is lost (no file of ``read``, the files the command reads by setting, is written over or inside the insights
    folder), and an earlier run's output and insights are replaced only with ``overwrite``. ``setting`` names
    ``output`` in messages."""
    folder = insights_folder(output)
    replaced = [(setting, folder)] if insights else []
    refuse_writing_over_inputs(read, [(setting, output)], replaced)
    if output.is_dir():
        raise ConfigError(f"{setting}='{output}' is a folder; name a file in it, e.g. "
                          f"{setting}={output / 'predictions.csv'}.")
    blocking = next((parent for parent in output.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise ConfigError(f"{setting}='{output}' cannot be written: '{blocking}' is a file, not a folder.")
    if insights and folder.exists():
        check_insights_folder(folder, output)
    earlier = [path for path in (output, folder) if path.exists() and (insights or path == output)]
    if earlier and not overwrite:
        raise ConfigError(f"'{earlier[0]}' exists (an earlier run?); pass overwrite=true to replace it, or "
                          "choose another output name.")


def check_insights_folder(folder: Path, output: Path) -> None:
    """The insights folder is replaced as a whole: it must hold nothing but files predict writes there."""
    foreign = [folder.name] if not folder.is_dir() else sorted(
        entry.name for entry in folder.iterdir() if entry.name not in INSIGHT_FILES or entry.is_dir())
    if foreign:
        what = "is a file" if not folder.is_dir() else f"holds files predict did not write ({', '.join(foreign[:5])})"
        raise ConfigError(
            f"'{folder}', where predict writes the insights of output='{output}', {what}. Predict replaces that "
            "folder as a whole, so move those files, choose another output name, or pass insights=false."
        )


def check_texts_are_words(texts: pd.Series, column: str, source: Path, columns: list[str]) -> None:
    """Refuse a text column of numbers only (an id or rating column chosen by mistake), as training does: each
    would get a confident-looking label."""
    filled = texts.dropna().astype(str).str.strip()
    filled = filled[filled != ""]
    if not filled.empty and filled.str.fullmatch(NUMBER).all():
        raise DataError(
            f"text_column '{column}' of '{source}' holds only numbers (e.g. {filled.iloc[0]!r}), not review texts. "
            f"Set text_column=<the column with the reviews> (columns: {', '.join(columns)}).")
