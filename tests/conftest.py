"""Shared fixtures: the tiny random BERT, a small review CSV, composed training configs, one tiny trained run (its
last checkpoint, and its tested best checkpoint, which records the blend with the run's TF-IDF baseline).

Plain helpers (paths, overrides, table builders) are in tests/helpers.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import DictConfig, open_dict

from tests.helpers import DEMO_CSV, multilabel_cfg, multilabel_frame, tiny_train_cfg, write_tiny_bert


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def small_reviews_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 180-row slice of the demo data, 30 reviews per class, as a user's CSV file."""
    frame = pd.read_csv(DEMO_CSV)
    sample = frame.groupby("category").head(30)
    path = tmp_path_factory.mktemp("data") / "reviews.csv"
    sample.sample(frac=1.0, random_state=0).to_csv(path, index=False)
    return path


@pytest.fixture
def compose_train_cfg(tiny_bert_dir: Path, small_reviews_csv: Path, tmp_path: Path) -> Callable[..., DictConfig]:
    """Compose ``conf/train.yaml`` with the tiny model, the small CSV and output under ``tmp_path``."""

    def _compose(*overrides: str, data_path: Path | None = None) -> DictConfig:
        cfg = tiny_train_cfg(tiny_bert_dir, data_path or small_reviews_csv, tmp_path / "run", *overrides)
        with open_dict(cfg):
            cfg.paths.output_dir = str(tmp_path / "run")
        return cfg

    return _compose


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_bert_dir: Path, small_reviews_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``last.ckpt`` of a 1-epoch tiny-BERT run on the small CSV, trained once per session.

    The run folder (TensorBoard events, reports) is ``tiny_checkpoint.parent.parent``; treat it as read-only.
    """
    from review_cls.jobs.train import run_training

    out_dir = tmp_path_factory.mktemp("tiny_run")
    run_training(tiny_train_cfg(tiny_bert_dir, small_reviews_csv, out_dir, "trainer.max_epochs=1"))
    return out_dir / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="session")
def blended_checkpoint(tiny_checkpoint: Path) -> Path:
    """The tested best checkpoint of the :func:`tiny_checkpoint` run: it records the blend with the run's TF-IDF
    baseline (``baseline/tfidf.npz`` of the same run folder; treat it as read-only)."""
    return next(tiny_checkpoint.parent.glob("best-epoch*.ckpt"))


@pytest.fixture(scope="session")
def multilabel_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`tests.helpers.multilabel_frame` as a user's CSV file (``review``, ``category`` joined with '|')."""
    path = tmp_path_factory.mktemp("ml_data") / "multilabel.csv"
    multilabel_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def multilabel_run(tiny_bert_dir: Path, multilabel_csv: Path, tmp_path_factory: pytest.TempPathFactory):
    """A 1-epoch multi-label tiny-BERT run on ``multilabel_csv``, trained once per session: its metrics, its run
    folder and its best checkpoint (treat them as read-only)."""
    from review_cls.jobs.train import run_training

    out = tmp_path_factory.mktemp("ml_run")
    metrics = run_training(multilabel_cfg(tiny_bert_dir, multilabel_csv, out))
    return metrics, out, next((out / "checkpoints").glob("best-epoch*.ckpt"))
