"""Resume, property-based: any pair of a checkpoint and data/settings either resumes (same labels, epochs left to
train) or stops with the project's error, and no file outside the new run changes."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review_cls.errors import ReviewClsError
from review_cls.jobs.train import run_training
from tests.helpers import tiny_train_cfg, write_csv


def _data(kind: str, source: Path, folder: Path) -> Path:
    frame = pd.read_csv(source)
    labels = sorted(frame["category"].unique())
    if kind == "renamed":
        frame["category"] = frame["category"].replace(labels[0], "design")
    elif kind == "fewer":
        frame = frame[frame["category"] != labels[0]]
    return write_csv(folder / f"{kind}.csv", frame)


def _fingerprint(folder: Path) -> dict[str, str]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.rglob("*") if path.is_file()}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(data=st.sampled_from(["same", "renamed", "fewer"]), epochs=st.sampled_from([1, 2, 3]),
       checkpoint=st.sampled_from(["last", "best"]))
def test_resume_either_fits_or_stops_with_the_projects_error(tiny_checkpoint, tiny_bert_dir, small_reviews_csv,
                                                            data, epochs, checkpoint):
    source_run = tiny_checkpoint.parent.parent
    ckpt = tiny_checkpoint if checkpoint == "last" else next(tiny_checkpoint.parent.glob("best*.ckpt"))
    before = _fingerprint(source_run)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        cfg = tiny_train_cfg(tiny_bert_dir, _data(data, small_reviews_csv, Path(folder)), out,
                             f"ckpt_path={ckpt}", f"trainer.max_epochs={epochs}", "baseline=false")
        # the same data and model resume while epochs are left: the checkpoint has 1 trained
        fits = data == "same" and epochs > 1
        try:
            run_training(cfg)
            resumed = True
        except ReviewClsError as error:
            resumed = False
            assert not fits, error
        if resumed:
            assert fits and (out / "metrics.json").is_file()
    assert _fingerprint(source_run) == before
