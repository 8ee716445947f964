"""Property: random values for the settings of ``predict`` and ``export`` either work or end in the
project's own error, never another exception, and never delete or change a file the user had."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from hydra import compose, initialize_config_dir
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from review_cls.errors import ReviewClsError
from review_cls.jobs.export import run_export
from review_cls.jobs.predict import run_prediction
from tests.helpers import CONF_DIR

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 100_000), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.lists(st.integers(), max_size=2),
    st.sampled_from(["auto", "cpu", "cuda", "cuda:0", "gpu0", "utf-8", "utf-16", "tab", ";", "review", "0", "date"]),
)
PREDICT_KEYS = ("chunk_size", "batch_size", "top_k", "progress", "insights", "text_column", "date_column",
                "rating_column", "sheet_name", "encoding", "sep", "device", "overwrite")
# where predict may be asked to write, relative to the example's folder (which holds reviews.csv and notes/)
OUTPUTS = ("out.csv", "earlier.csv", "out.xlsx", "out.parquet", "out.jsonl", "out.txt", "out", "notes", "reviews.csv",
           "reviews.csv/x.csv", "notes/out.csv", "notes_insights.csv", ".", "", "a\x00.csv")


def compose_config(name: str, overrides: list[str]):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name=name, overrides=overrides)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


class InFolder:
    """A fresh working directory for one example: relative paths land there, never in the repository."""

    def __enter__(self) -> Path:
        self._previous, self._folder = Path.cwd(), tempfile.TemporaryDirectory()
        os.chdir(self._folder.name)
        return Path(self._folder.name)

    def __exit__(self, *exc_info) -> None:
        os.chdir(self._previous)
        self._folder.cleanup()


@SETTINGS
@given(changes=st.dictionaries(st.sampled_from(PREDICT_KEYS), values, max_size=4), output=st.sampled_from(OUTPUTS))
def test_random_predict_settings_work_or_raise_the_project_error(tiny_checkpoint, changes, output):
    with InFolder() as here:
        pd.DataFrame({"review": ["late parcel", "app crashes", ""], "date": ["2024-01-02", "x", None]}).to_csv(
            here / "reviews.csv", index=False)
        (here / "notes").mkdir()
        (here / "notes" / "mine.txt").write_text("the user's")
        (here / "notes_insights").mkdir()
        (here / "notes_insights" / "mine.txt").write_text("the user's too")
        (here / "earlier.csv").write_text("earlier predictions")
        before = snapshot(here)
        cfg = compose_config("predict", [f"ckpt_path={tiny_checkpoint}", "input=reviews.csv", "output=x.csv"])
        cfg.output = output
        for key, value in changes.items():
            cfg[key] = value
        try:
            result = run_prediction(cfg)
            assert result["rows"] == 3 and Path(result["output"]).is_file()
            event("predicted")
        except ReviewClsError as error:
            event(f"refused: {type(error).__name__}")
        after = snapshot(here)
        replaced = {"earlier.csv"} if output == "earlier.csv" and changes.get("overwrite") is True else set()
        kept = {name: after.get(name) for name in before if name not in replaced}
        assert kept == {name: data for name, data in before.items() if name not in replaced}, \
            "predict changed or deleted a file it found (without overwrite=true naming it)"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(out=st.one_of(st.sampled_from(["model", ".", "..", "", "run", "run/checkpoints", "run/checkpoints/last.ckpt",
                                      "notes", "model/"]), st.text(max_size=5), values),
       overwrite=values, ckpt=st.sampled_from(["run/checkpoints/last.ckpt", "run", "missing.ckpt", "notes/mine.txt"]))
def test_random_export_settings_work_or_raise_the_project_error(tiny_checkpoint, out, overwrite, ckpt):
    with InFolder() as here:
        (here / "run" / "checkpoints").mkdir(parents=True)
        shutil.copy(tiny_checkpoint, here / "run" / "checkpoints" / "last.ckpt")
        (here / "notes").mkdir()
        (here / "notes" / "mine.txt").write_text("the user's")
        before = snapshot(here)
        cfg = compose_config("export", ["ckpt_path=x", "out=y"])
        cfg.ckpt_path, cfg.out, cfg.overwrite = ckpt, out, overwrite
        try:
            assert (run_export(cfg) / "config.json").is_file()
            event("exported")
        except ReviewClsError as error:
            event(f"refused: {type(error).__name__}")
        after = snapshot(here)
        assert {name: after.get(name) for name in before} == before, "export changed or deleted a file it found"
