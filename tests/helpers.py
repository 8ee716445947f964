"""What the tests share: paths, the tiny random BERT (no download), tiny training overrides, small review tables and
the check that a failed run raised the right error and left no folder."""

from __future__ import annotations

import itertools
import site
import string
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from review_cls.errors import ReviewClsError
from review_cls.models.task import SINGLE_LABEL, Task

REPO_ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = REPO_ROOT / "conf"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEMO_CSV = REPO_ROOT / "review_cls" / "data" / "demo" / "shopping_app_reviews_en.csv"
ZH_DEMO = REPO_ROOT / "review_cls" / "data" / "demo" / "shopping_app_reviews_zh_tw.csv"
# checkpoints written with flat hyperparameters, and what they predicted (its README.md)
FLAT_HPARAMS = REPO_ROOT / "tests" / "fixtures" / "flat_hparams"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
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
    # transformers 5 builds the vocab from `vocab=`: a `vocab_file=` alone left only the 5 special tokens
    tokenizer = BertTokenizer(vocab={token: i for i, token in enumerate(dict.fromkeys(vocab))}, do_lower_case=True,
                              model_max_length=128)
    tokenizer.save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
    )
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    return folder


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


def tiny_train_cfg(tiny_bert_dir: Path, data_path: Path, out_dir: Path, *overrides: str):
    """``conf/train.yaml`` composed with :func:`tiny_overrides` and ``overrides``: a run of its own in ``out_dir``."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="train", overrides=[*tiny_overrides(tiny_bert_dir, data_path, out_dir), *overrides])


def multilabel_cfg(tiny_bert_dir: Path, data_path: Path, out: Path, *overrides: str):
    """``conf/train.yaml`` on a multi-label file (``review``, ``category`` split on '|', :func:`multilabel_frame`)
    for one epoch on the tiny model."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="train", overrides=[
            *tiny_overrides(tiny_bert_dir, data_path, out), "data=file", f"data.path={data_path}",
            "data.text_column=review", "data.label_column=category", "data.label_separator='|'",
            "trainer.max_epochs=1", "model.alpha=auto", *overrides])


def hydra_like_run(cfg) -> Path:
    """What Hydra has written into a run folder before the job starts: the resolved config and the log file."""
    run_dir = Path(cfg.paths.output_dir)
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text("seed: 42\n")
    (run_dir / "train.log").write_text("")
    return run_dir


def fails(cfg, error: type[ReviewClsError], *fragments: str) -> str:
    """Run training as its command starts it (a run folder), expect ``error`` whose message holds every fragment, and
    a removed run folder."""
    from review_cls.cli import started
    from review_cls.jobs.train import run_training

    run_dir = hydra_like_run(cfg)
    with pytest.raises(error) as caught:
        started(run_training, cfg, run_folder=True)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    assert not run_dir.exists(), f"a failed run left {sorted(p.name for p in run_dir.iterdir())}"
    return message


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def reviews(n_per_class: int = 12, classes: tuple[str, ...] = ("bug", "delivery", "price")) -> pd.DataFrame:
    rows = [(f"review {label} number {i}", label) for label in classes for i in range(n_per_class)]
    return pd.DataFrame(rows, columns=["review", "category"])


def multilabel_frame(pairs: int = 4, singles: int = 8, unlabeled: int = 6) -> pd.DataFrame:
    """Demo reviews as a multi-label table (``review``, ``category`` split on '|'): for every two categories,
    ``pairs`` texts joining one review of each (label 'a|b'), ``singles`` plain reviews per category, and
    ``unlabeled`` reviews with an empty label (none of the categories). Every demo review is used once at most."""
    demo = pd.read_csv(DEMO_CSV)
    pools = {category: iter(group["review"].tolist()) for category, group in demo.groupby("category")}
    rows = [(f"{next(pools[a])} {next(pools[b])}", f"{a}|{b}")
            for a, b in itertools.combinations(sorted(pools), 2) for _ in range(pairs)]
    rows += [(next(pools[category]), category) for category in sorted(pools) for _ in range(singles)]
    rows += [(f"no category here number {i}", "") for i in range(unlabeled)]
    return pd.DataFrame(rows, columns=["review", "category"]).sample(frac=1.0, random_state=0)


def imbalanced_frame() -> pd.DataFrame:
    """60 distinct reviews in three classes of 40, 14 and 6 (columns ``text``, ``label``)."""
    texts = [f"review number {i}" for i in range(60)]
    labels = ["big"] * 40 + ["mid"] * 14 + ["rare"] * 6
    return pd.DataFrame({"text": texts, "label": labels})


def group_settings(group: str, option: str, **overrides) -> dict:
    """A config group's values as conf/<group>/<option>.yaml gives them (the project's only defaults; a key that
    reads another group's finds none: ``data.tokenizer`` is null), with ``overrides``: what the code receives from
    Hydra, for tests that build one object directly."""
    alone = OmegaConf.create({group: OmegaConf.load(CONF_DIR / group / f"{option}.yaml")})  # the only group
    values = OmegaConf.to_container(alone, resolve=True)[group]
    return {key: value for key, value in values.items() if not key.startswith("_") and key != "defaults"} | overrides


def data_module(**overrides):
    """A :class:`ReviewDataModule` from the demo data group's settings and ``overrides`` (a partial ``resampling`` is
    merged into the group's), with seed 42 and no output folder unless given."""
    from review_cls.data.datamodule import ReviewDataModule

    values = group_settings("data", "demo", seed=42, output_dir=None)
    resampling = values["resampling"] | overrides.pop("resampling", {})
    return ReviewDataModule.from_config(values | overrides | {"resampling": resampling})


def review_classifier(labels: list[str], train_targets: list, max_length: int, pretrained: str,
                      multilabel: bool = False, vocab_size: int | None = None, token_vocab: dict | None = None,
                      **overrides):
    """``build_review_classifier`` with the default model group's settings (conf/model/minilm.yaml) and ``overrides``
    of its keys (``lr=1e-3``, ``gamma=2``...)."""
    from review_cls.models.factory import build_review_classifier
    from review_cls.models.model_settings import ModelSettings

    settings = ModelSettings.from_config(group_settings("model", "minilm", pretrained=pretrained) | overrides)
    return build_review_classifier(settings, labels, train_targets, max_length, multilabel, vocab_size, token_vocab)


def venv_borrowing_packages(venv: Path, python: str = sys.executable) -> Path:
    """A venv (no pip of its own) that sees ``python``'s installed packages, not its base interpreter's: a ``.pth``
    file adds that interpreter's site folders (their own ``.pth`` files included). ``--system-site-packages`` would
    show the *base* interpreter's, which in a fresh venv lacks the setuptools the venv was given. Returns its python.
    """
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
    folders = subprocess.run([python, "-c", "from tests.helpers import site_folders; print(*site_folders(), sep='\\n')"],
                             check=True, capture_output=True, text=True, cwd=REPO_ROOT).stdout.split()
    venv_python = venv / "bin" / "python"
    own = subprocess.run([str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True).stdout.strip()
    lines = [f"import site; site.addsitedir({folder!r})" for folder in folders]
    # "~" sorts after setuptools' "__editable__" files, so this project's own editable install is found first
    (Path(own) / "~borrowed_site_packages.pth").write_text("\n".join(lines) + "\n")
    return venv_python


def site_folders() -> list[str]:
    """Where this interpreter's packages live (a venv's own folders, the base's too with --system-site-packages)."""
    paths = sysconfig.get_paths()
    folders = [*site.getsitepackages(), paths["purelib"], paths["platlib"]]
    if site.ENABLE_USER_SITE and Path(site.getusersitepackages()).is_dir():
        folders.append(site.getusersitepackages())
    return [folder for folder in dict.fromkeys(folders) if Path(folder).is_dir()]


@dataclass(frozen=True)
class KeywordPredictor:
    """A Predictor without a model or tokenizer, as a wrapper or a remote worker would be: a label scores high when
    its name occurs in the text (softmax over the labels; multi-label 0.9 or 0.1 each)."""

    labels: list[str]
    task: Task = SINGLE_LABEL
    thresholds: np.ndarray | None = None
    max_length: int = 32

    def predict_probabilities(self, texts: list[str], batch_size: int) -> np.ndarray:
        hits = np.array([[label in text for label in self.labels] for text in texts], dtype=np.float32)
        if self.task.multilabel:
            return 0.1 + 0.8 * hits
        scores = np.exp(3 * hits)
        return (scores / scores.sum(axis=1, keepdims=True)).astype(np.float32)

    def to(self, device) -> KeywordPredictor:
        return self
