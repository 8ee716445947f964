"""Shared fixtures: a tiny random BERT built from a small vocab (no download) and composed Hydra configs."""

from __future__ import annotations

import string
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

REPO_ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = REPO_ROOT / "conf"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEMO_CSV = REPO_ROOT / "review_cls" / "data" / "demo" / "shopping_app_reviews_en.csv"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
COMMON_WORDS = (
    "the app is not it and to a i my was for this of in on so very but crash crashes slow bug login update "
    "delivery late parcel order courier refund price pay payment card coupon fee ui button screen dark mode "
    "quality broken fake size service member points return love great bad"
).split()


def write_tiny_bert(folder: Path) -> Path:
    """A 2-layer, 32-wide BERT with a letters-and-words WordPiece vocab, saved like a hub checkpoint."""
    from transformers import BertConfig, BertModel, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    letters = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = SPECIAL_TOKENS + letters + [f"##{c}" for c in string.ascii_lowercase + string.digits] + COMMON_WORDS
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    tokenizer = BertTokenizer(vocab_file=str(vocab_file), do_lower_case=True, model_max_length=128)
    tokenizer.save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
    )
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    return folder


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


def tiny_overrides(tiny_bert_dir: Path, data_path: Path, out_dir: Path) -> list[str]:
    """Overrides that make any training config run in seconds on the tiny model."""
    return [
        f"model.pretrained={tiny_bert_dir}",
        f"data.path={data_path}",
        f"paths.output_dir={out_dir}",
        f"paths.log_dir={out_dir}",
        "data.batch_size=16",
        "data.eval_batch_size=32",
        "trainer.max_epochs=2",
        "trainer.accelerator=cpu",
        "trainer.log_every_n_steps=1",
        "model.lr=1e-3",
        "callbacks.progress_bar=null",
    ]


@pytest.fixture
def compose_train_cfg(tiny_bert_dir: Path, small_reviews_csv: Path, tmp_path: Path) -> Callable[..., DictConfig]:
    """Compose ``conf/train.yaml`` with the tiny model, the small CSV and output under ``tmp_path``."""

    def _compose(*overrides: str, data_path: Path | None = None) -> DictConfig:
        base = tiny_overrides(tiny_bert_dir, data_path or small_reviews_csv, tmp_path / "run")
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
            cfg = compose(config_name="train", overrides=[*base, *overrides])
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
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="train", overrides=tiny_overrides(tiny_bert_dir, small_reviews_csv, out_dir))
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
        cfg.trainer.max_epochs = 1
    run_training(cfg)
    return out_dir / "checkpoints" / "last.ckpt"
