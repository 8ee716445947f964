"""What every benchmark shares: the real data splits, the machine description, and atomic result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

RESULTS = Path("bench/results")
GOOGLE_PLAY = Path("../shared/data/google_play_reviews/dataset_unbalanced_4000.xlsx")
CLAP = Path("../shared/data/clap_reviews/clap_rq1_reviews.csv")
SHOPPING_ZH = Path("../shared/data/online_shopping_10_cats/online_shopping_10_cats.csv")
MINILM = "packaged:all-MiniLM-L6-v2"
# seeded samples of the Chinese shopping file, and the scratch runs of the cost benchmarks
WORK = RESULTS / "cost_work"
GOOGLE_PLAY_9TO1 = WORK / "google_play_user_experience_150.csv"


def require(path: Path) -> Path:
    if not path.exists():
        raise SystemExit(f"{path} is missing: the benchmarks need ../shared/data next to the repository.")
    return path


def clean_splits(path: Path, text_column: str, label_column: str, seed: int, val_size: float = 0.1,
                 test_size: float = 0.1):
    """The same deduplicated stratified split a training run with this seed makes (no tokenizer loaded), read as
    single-label as the shared sets' data groups read them (``task: single``: their few texts filed under two labels
    keep the first)."""
    from review_cls.data.datamodule import ReviewDataModule

    settings = group_settings("data", "demo", path=str(require(path)), text_column=text_column,
                              label_column=label_column, val_size=val_size, test_size=test_size, seed=seed,
                              task="single")
    return ReviewDataModule.from_config(settings).clean_splits()


def machine() -> dict[str, Any]:
    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "load_avg_at_start": load}


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def mean_std(values: list[float]) -> dict[str, float]:
    """Mean and sample std (0 for a single value) of per-seed scores."""
    return {"mean": float(statistics.mean(values)), "std": float(statistics.stdev(values)) if len(values) > 1 else 0.0,
            "n": len(values)}


def save_result(name: str, payload: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` atomically (a crash never leaves half a result)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"{name}.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(target)
    return target


def group_settings(group: str, option: str, **overrides: Any) -> dict[str, Any]:
    """A config group's values as conf/<group>/<option>.yaml gives them (the project's only defaults; a key that reads
    another group finds none) with ``overrides``."""
    from omegaconf import OmegaConf

    alone = OmegaConf.create({group: OmegaConf.load(Path("conf") / group / f"{option}.yaml")})  # the only group
    values = OmegaConf.to_container(alone, resolve=True)[group]
    return {key: value for key, value in values.items() if not key.startswith("_")} | overrides


def sample_path(size: int) -> Path:
    """Where ``sample_file(size)`` writes its sample."""
    return WORK / f"shopping_{size}.csv"


def sample_file(size: int) -> Path:
    """A seeded random sample (the file is sorted by category, so its head would be one class)."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = sample_path(size)
    if not path.exists():
        import pandas as pd

        frame = pd.read_csv(require(SHOPPING_ZH))
        frame.sample(n=min(size, len(frame)), random_state=0).to_csv(path, index=False)
    return path


def cap_class(frame: pd.DataFrame, column: str, label: str, cap: int, seed: int = 0) -> pd.DataFrame:
    """``frame`` with the rows whose ``column`` is ``label`` cut to a seeded sample of ``cap``; other rows untouched."""
    import pandas as pd

    chosen = frame[frame[column] == label]
    kept = chosen.sample(n=min(cap, len(chosen)), random_state=seed)
    return pd.concat([frame[frame[column] != label], kept]).sort_index()


def google_play_9to1_file() -> Path:
    """``GOOGLE_PLAY_9TO1``: Google Play with "user experience" cut to 150 reviews, so 1,410 : 150 is 9.4:1, between
    Google Play's own 2.4:1 and the 17:1 / 30:1 sets, to test where class weights start to pay."""
    import pandas as pd

    if not GOOGLE_PLAY_9TO1.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        frame = pd.read_excel(require(GOOGLE_PLAY))[["review", "label"]]
        cap_class(frame, "label", "user experience", 150).to_csv(GOOGLE_PLAY_9TO1, index=False)
    return GOOGLE_PLAY_9TO1


def run_review_cls(command: str, *overrides: str) -> None:
    """``python -m review_cls.<command> OVERRIDES`` as a user runs it (benchmarks use the commands, not their jobs);
    a failure raises with the end of its error output."""
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-m", f"review_cls.{command}", *overrides], capture_output=True,
                               text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"review_cls.{command} failed ({completed.returncode}):\n{completed.stderr[-3000:]}")


def fit_tfidf(texts: list[str], label_ids: list[int], seed: int):
    """The project's TF-IDF + logistic regression baseline (conf/tfidf/default.yaml) fitted on ``texts``."""
    from omegaconf import OmegaConf

    from review_cls.models.tfidf import build_tfidf_pipeline

    pipeline = build_tfidf_pipeline(**OmegaConf.to_container(OmegaConf.load("conf/tfidf/default.yaml")), seed=seed)
    return pipeline.fit(texts, label_ids)


def macro_f1_on(pipeline, split, labels: list[str]) -> float:
    """Macro-F1 of ``pipeline`` on a split's reviews (every label counted, absent ones as 0)."""
    from sklearn.metrics import f1_score

    from review_cls.models.tfidf import full_probabilities

    predicted = full_probabilities(pipeline, split.texts, len(labels)).argmax(axis=1)
    return float(f1_score(split.label_ids(labels), predicted, average="macro", labels=list(range(len(labels))),
                          zero_division=0))


IDEA_YOUTUBE = Path("../shared/data/idea_youtube")


def trend_counts(frame: pd.DataFrame, labels: pd.Series, text_column: str = "review", date_column: str | None = "date",
                 version_column: str | None = None, rating_column: str | None = None, chunk_size: int = 10_000,
                 **settings: Any):
    """``frame`` folded into the running counts of emerging issues and topics chunk by chunk, as predict does, with
    the trends defaults (conf/trends/default.yaml) changed by ``settings``."""
    from omegaconf import OmegaConf

    from review_cls.monitoring.counts import TrendCounts
    from review_cls.monitoring.trend_settings import trend_settings

    defaults = OmegaConf.to_container(OmegaConf.load(Path("conf/trends/default.yaml")))
    counts = TrendCounts(trend_settings({**defaults, **settings}), text_column, date_column, version_column,
                         rating_column)
    for start in range(0, len(frame), chunk_size):
        counts.update(frame.iloc[start:start + chunk_size], labels.iloc[start:start + chunk_size])
    return counts
