"""Label efficiency: test macro-F1 against the number of labeled training reviews, for the
fine-tuned model and for the TF-IDF baseline fitted on the very same reviews.

For each seed the run's usual stratified split is made once; validation and test stay whole, and the training split
is cut to a stratified subset of each size (``all`` = the whole split). Each point is one ``python -m
review_cls.train`` subprocess on a split file naming that subset (``data.split_file``), so the TF-IDF baseline that
every run fits is on the same reviews. Small subsets get more epochs (at least ``--min-steps`` optimizer steps, up to
``--max-epochs-cap``) because 5 epochs of 100 reviews is 20 steps. Each finished point appends a JSON line to
``--out``; a rerun skips the (name, seed, size) triples already there.

    # Google Play, MiniLM (the baseline_ce recipe of the ablation)
    OMP_NUM_THREADS=1 python -m bench.label_efficiency --name minilm --sizes 100 250 500 1000 all --seeds 0 \\
        --out bench/results/label_efficiency_gp.jsonl data=google_play +experiment=ablation/baseline_ce \\
        model.dropout=0.1
    # the same from a masked-LM-pretrained folder (python -m review_cls.pretrain data=google_play seed=0)
    OMP_NUM_THREADS=1 python -m bench.label_efficiency --name minilm_tapt --sizes 100 250 500 1000 all --seeds 0 \\
        --out bench/results/label_efficiency_gp.jsonl data=google_play +experiment=ablation/baseline_ce \\
        model.dropout=0.1 model.pretrained=<pretrain run>/pretrained_model
    python -m bench.label_efficiency --plot docs/label_efficiency.png bench/results/label_efficiency_*.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import RESULTS

BATCH_SIZE = 32


def base_splits(overrides: list[str], seed: int):
    """The clean train/val/test reviews a training run with these overrides and seed splits into."""
    from hydra import compose, initialize_config_dir

    from review_cls.data.datamodule import ReviewDataModule

    with initialize_config_dir(version_base="1.3", config_dir=str(Path("conf").resolve())):
        cfg = compose("train", overrides=[*overrides, f"seed={seed}", "paths.output_dir=null"])
    splits, _ = ReviewDataModule.from_config(cfg.data).clean_splits()
    return splits


def subset_positions(labels: list[str], size: int, seed: int) -> np.ndarray:
    """A stratified subset of ``size`` training positions (every class keeps at least one review)."""
    from sklearn.model_selection import train_test_split

    positions = np.arange(len(labels))
    if size >= len(labels):
        return positions
    kept, _ = train_test_split(positions, train_size=size, stratify=labels, random_state=seed)
    return np.sort(kept)


def epochs_for(size: int, min_steps: int, min_epochs: int, cap: int) -> int:
    return max(min_epochs, min(cap, math.ceil(min_steps / math.ceil(size / BATCH_SIZE))))


def run_point(name: str, seed: int, size_arg: str, splits, args: argparse.Namespace) -> dict:
    from review_cls.data.prepare import save_split

    train = splits["train"]
    size = len(train) if size_arg == "all" else int(size_arg)
    kept = train.take(subset_positions(train.labels, size, seed))
    run_dir = args.runs / f"{name}_seed{seed}_n{size_arg}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    split_file = run_dir / "subset_split.json"
    save_split(split_file, {"train": kept.row_ids, "val": splits["val"].row_ids, "test": splits["test"].row_ids},
               train.source)
    epochs = epochs_for(len(kept), args.min_steps, args.min_epochs, args.max_epochs_cap)
    command = [
        sys.executable, "-m", "review_cls.train", *args.overrides, f"seed={seed}", f"data.split_file={split_file}",
        f"trainer.max_epochs={epochs}", f"callbacks.early_stopping.patience={epochs}",
        "callbacks.last_checkpoint=null", "callbacks.progress_bar=null",
        f"paths.output_dir={run_dir}", f"hydra.run.dir={run_dir}",
    ]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    (run_dir / "stdout.log").write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0:
        raise RuntimeError(f"{name} seed {seed} n={size_arg} failed; see {run_dir / 'stdout.log'}")
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    model = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    baseline = json.loads((run_dir / "baseline" / "metrics.json").read_text())["metrics"]
    return {"name": name, "seed": seed, "size": size_arg, "train_reviews": len(kept), "epochs": epochs,
            "seconds": round(seconds, 1), "command": " ".join(command[1:]),
            "model_test_f1_macro": model["test/f1_macro"], "model_val_f1_macro": model["val/f1_macro_best"],
            "tfidf_test_f1_macro": baseline["test/f1_macro"], "tfidf_val_f1_macro": baseline["val/f1_macro"]}


def done_points(out: Path) -> set[tuple[str, int, str]]:
    if not out.exists():
        return set()
    return {(row["name"], row["seed"], row["size"]) for row in map(json.loads, out.read_text().splitlines())}


def plot(target: Path, sources: list[Path]) -> None:
    """One line per method (mean over seeds), TF-IDF once per data set, x on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for source in sources:
        rows = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
        curves: dict[str, dict[int, list[float]]] = {}
        for row in rows:
            curves.setdefault(row["name"], {}).setdefault(row["train_reviews"], []).append(row["model_test_f1_macro"])
            curves.setdefault("TF-IDF", {}).setdefault(row["train_reviews"], []).append(row["tfidf_test_f1_macro"])
        for name, points in curves.items():
            sizes = sorted(points)
            axis.plot(sizes, [float(np.mean(points[s])) for s in sizes], marker="o",
                      linestyle="--" if name == "TF-IDF" else "-", label=f"{source.stem}: {name}")
    axis.set_xscale("log")
    axis.set_xlabel("labeled training reviews")
    axis.set_ylabel("test macro-F1")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(target, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", help="the method's name in the results (e.g. minilm, minilm_tapt)")
    parser.add_argument("--sizes", nargs="+", default=["100", "250", "500", "1000", "all"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--min-steps", type=int, default=150)
    parser.add_argument("--min-epochs", type=int, default=5)
    parser.add_argument("--max-epochs-cap", type=int, default=30)
    parser.add_argument("--runs", type=Path, default=RESULTS / "label_efficiency_runs")
    parser.add_argument("--out", type=Path, default=RESULTS / "label_efficiency.jsonl")
    parser.add_argument("--plot", type=Path, help="draw the PNG from the result files given as overrides, and exit")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of every run (data=..., +experiment=...)")
    args = parser.parse_args()
    if args.plot:
        plot(args.plot, [Path(source) for source in args.overrides])
        return
    if not args.name:
        parser.error("--name is required to run points")
    done = done_points(args.out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        splits = base_splits(args.overrides, seed)
        for size in args.sizes:
            if (args.name, seed, size) in done:
                continue
            row = run_point(args.name, seed, size, splits, args)
            with args.out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            print(json.dumps({k: row[k] for k in ("name", "seed", "size", "model_test_f1_macro",
                                                  "tfidf_test_f1_macro", "seconds")}), flush=True)


if __name__ == "__main__":
    main()
