"""The notebooks run top to bottom (nbclient) on the demo data and on a tiny run and sweep, so they cannot rot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from review_cls.sweeps.sweep_summary import write_sweep_summary
from tests.helpers import DEMO_CSV, REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
EXPLORE = NOTEBOOKS / "01_explore_reviews.ipynb"
INSPECT = NOTEBOOKS / "02_inspect_run.ipynb"


def run_notebook(path: Path, cwd: Path, parameters: str | None = None) -> str:
    """Execute ``path`` (its first code cell replaced by ``parameters``); returns all printed text."""
    notebook = nbformat.read(path, as_version=4)
    if parameters is not None:
        cell = next(cell for cell in notebook.cells if cell.cell_type == "code")
        assert "parameters" in cell.metadata.get("tags", [])
        cell.source = parameters
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return "\n".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                     for output in cell.outputs if output.output_type == "stream")


@pytest.mark.parametrize("path", [EXPLORE, INSPECT], ids=lambda path: path.name)
def test_notebooks_are_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_explore_runs_on_the_demo_data_as_shipped(tmp_path):
    printed = run_notebook(EXPLORE, tmp_path)
    assert f"{len(pd.read_csv(DEMO_CSV)):,} rows" in printed
    assert "date column: date; rating column: rating" in printed
    assert "exact duplicates: 0 rows" in printed
    assert "2024-12-30 to 2025-06-30" in printed


def test_explore_runs_on_unlabeled_reviews_without_dates_or_ratings(tiny_bert_dir, tmp_path):
    data = tmp_path / "plain.jsonl"
    pd.DataFrame({"content": ["app crashes", "late parcel", "app crashes", "", "great ui"]}).to_json(
        data, orient="records", lines=True)
    printed = run_notebook(EXPLORE, tmp_path, f'DATA = "{data}"\nSHEET_NAME = None\nTEXT_COLUMN = "content"\n'
                           f'LABEL_COLUMN = None\nDATE_COLUMN = None\nRATING_COLUMN = None\n'
                           f'TOKENIZER = "{tiny_bert_dir}"\nMAX_LENGTH = 4')
    assert "No label column" in printed and "No rating column." in printed and "No date column." in printed
    assert "empty texts: 1" in printed and "exact duplicates: 1 rows" in printed


@pytest.fixture
def sweep(tiny_checkpoint: Path, tmp_path: Path) -> Path:
    """A two-job sweep folder made of copies of the tiny run; job 1 has the better validation macro-F1."""
    folder = tmp_path / "multiruns" / "2026-01-01_00-00-00"
    for job, val_f1 in (("0", 0.25), ("1", 0.75)):
        shutil.copytree(tiny_checkpoint.parent.parent, folder / job, ignore=shutil.ignore_patterns("checkpoints"))
        record_path = folder / job / "metrics.json"
        record = json.loads(record_path.read_text())
        record["metrics"]["val/f1_macro"] = record["metrics"]["val/f1_macro_best"] = val_f1
        record["overrides"] = [f"model.dropout=0.{job}"]
        record_path.write_text(json.dumps(record))
    write_sweep_summary(folder)
    return folder


def test_inspect_picks_the_best_run_of_a_sweep(sweep, tmp_path):
    printed = run_notebook(INSPECT, tmp_path, f'RUN = None\nLOG_DIR = "{sweep.parent}"\nWORST = 3')
    assert f"sweep: {sweep}" in printed
    assert f"best run: {sweep / '1'}" in printed
    assert "curves from history.csv" in printed
    assert "test reviews are wrong" in printed


def test_inspect_reads_tensorboard_when_a_run_has_no_history(tiny_checkpoint, tmp_path):
    run = tmp_path / "old_run"
    shutil.copytree(tiny_checkpoint.parent.parent, run, ignore=shutil.ignore_patterns("checkpoints", "history.csv"))
    printed = run_notebook(INSPECT, tmp_path, f'RUN = "{run}"\nLOG_DIR = None\nWORST = 3')
    history = pd.read_csv(tiny_checkpoint.parent.parent / "history.csv")
    assert "curves from TensorBoard events" in printed
    assert f"val macro-F1 {history['val/f1_macro'].max():.4f}" in printed
