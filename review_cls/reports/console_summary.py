"""A one-screen summary at the end of a command: the headline numbers, per-class scores, and where things are."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text


class ReaderlessConsole(Console):
    """A console that goes quiet when nobody reads stdout any more (`| head`, a parent process gone). Rich's default
    exits with status 1 there, which would mark a run as failed after it wrote everything the panel names."""

    def on_broken_pipe(self) -> None:
        """Drop this and later output; stdout points at devnull so other lines and the exit flush do not fail."""
        self.quiet = True
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def per_class_table(report: Mapping[str, Any], labels: Sequence[str]) -> Table:
    """Precision, recall, F1 and support per class from a scikit-learn report dict, in label order."""
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("class")
    for name in ("precision", "recall", "F1", "support"):
        table.add_column(name, justify="right")
    for label in labels:
        if label in report:
            scores = report[label]
            numbers = (f"{scores[key]:.3f}" for key in ("precision", "recall", "f1-score"))
            table.add_row(Text(label), *numbers, str(int(scores["support"])))
    return table


def print_summary(heading: str, folder: Path, facts: Mapping[str, str], report: Mapping[str, Any] | None,
                  labels: Sequence[str], artifacts: Mapping[str, Path], hint: str | None = None,
                  console: Console | None = None) -> None:
    """Print the run folder, facts ("best epoch: 3"), the per-class table, the artifacts that exist (relative to the
    folder, so the panel stays narrow) and a closing hint in one panel."""
    facts_table = Table.grid(padding=(0, 2))
    for name, value in {"run folder": str(folder), **facts}.items():
        facts_table.add_row(Text(name, style="bold"), Text(value))
    parts: list[Any] = [facts_table]
    if report is not None:
        parts += ["", per_class_table(report, labels)]
    paths = Table.grid(padding=(0, 2))
    for name, path in artifacts.items():
        if Path(path).exists():
            shown = Path(path).relative_to(folder) if Path(path).is_relative_to(folder) else path
            paths.add_row(Text(name), Text(str(shown)))
    parts += ["", paths]
    if hint:
        parts += ["", Text(hint)]
    (console or ReaderlessConsole()).print(Panel(Group(*parts), title=Text(heading, style="bold"), expand=False))
