"""Imbalance ablation on real reviews: one ``python -m review_cls.train`` subprocess per (experiment, seed).

Runs are ordered seed-major (every experiment once, then the next seed), so a partial result still covers every
configuration. Each finished run appends one JSON line to ``--out`` (test metrics read from the run's TensorBoard
events), so an interrupted ablation keeps what it measured; rerunning skips the (experiment, seed) pairs already there.

    OMP_NUM_THREADS=1 python -m bench.ablation --seeds 0 1 2 --max-epochs 5 --patience 3 --lr 1e-4 \
        --runs bench/results/ablation5_runs --out bench/results/ablation5.jsonl model.dropout=0.1

(the configuration of docs/benchmarks/imbalance.md; the script's own defaults are a shorter 2-epoch budget)

The Chinese rows (docs/benchmarks/chinese.md): the same runner with the data and experiment swapped, e.g.

    OMP_NUM_THREADS=1 python -m bench.ablation --data shopping_zh --experiments ablation/char_minilm char_bert \
        --seeds 42 --max-epochs 3 --patience 3 --lr 1e-4 --runs bench/results/zh8k_runs --out bench/results/zh8k.jsonl \
        data.path=bench/results/cost_work/shopping_8000.csv

(``--lr`` applies to every experiment: pass the experiment's own lr, 1e-4 for char_minilm, 1e-3 for char_bert,
in separate invocations.)

The summary table (mean and std over seeds, plus the TF-IDF baseline on each run's split) comes from
``python -m bench.ablation --summarize``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import RESULTS, mean_std, run_review_cls

# +experiment=NAME of every run: the ablation's reference, its imbalance settings and the recipe reproduction, then
# the training levers, each a delta on ablation/baseline_ce
EXPERIMENTS = ("ablation/baseline_ce", "ablation/weighted_ce", "ablation/focal_only", "ablation/undersample_only",
               "focal_dropout03", "ablation/logit_adjusted", "ablation/posthoc_adjusted", "ablation/layer_decay",
               "ablation/class_balanced", "ablation/undersample_redrawn", "ablation/mean_pooling", "ablation/rdrop",
               "ablation/reinit_top")


def read_scalars(run_dir: Path, prefix: str) -> dict[str, float]:
    """Last value of every scalar under ``prefix`` in the run's TensorBoard events."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    scalars: dict[str, float] = {}
    for events in sorted(run_dir.glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events), size_guidance={"scalars": 0})
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            if tag.startswith(prefix):
                scalars[tag] = float(accumulator.Scalars(tag)[-1].value)
    return scalars


def run_one(experiment: str, seed: int, args: argparse.Namespace) -> dict:
    """Train and test one configuration; keep split.json and metrics, drop the checkpoints (MiniLM, ~90 MB each)."""
    run_dir = args.runs / f"{experiment.replace('/', '-')}_seed{seed}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    command = [
        sys.executable, "-m", "review_cls.train", f"data={args.data}", f"+experiment={experiment}", f"seed={seed}",
        f"trainer.max_epochs={args.max_epochs}", f"callbacks.early_stopping.patience={args.patience}",
        "trainer.min_epochs=1",  # --patience acts from the first epoch
        f"model.lr={args.lr}", "callbacks.last_checkpoint=null", "callbacks.progress_bar=null",
        f"paths.output_dir={run_dir}", f"hydra.run.dir={run_dir}", f"trainer.accelerator={args.accelerator}",
        *args.extra,
    ]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    (run_dir / "stdout.log").parent.mkdir(parents=True, exist_ok=True)
    (run_dir / "stdout.log").write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0:
        raise RuntimeError(f"{experiment} seed {seed} failed; see {run_dir / 'stdout.log'}")
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    scalars = read_scalars(run_dir, "test/") | read_scalars(run_dir, "val/")
    return {"experiment": experiment, "seed": seed, "seconds": round(seconds, 1), "run_dir": str(run_dir),
            "command": " ".join(command[1:]), "metrics": scalars}


def baseline_metrics(run_dir: Path, data: str) -> dict[str, float]:
    """The TF-IDF baseline on the run's own split: what the run wrote, or fitted now from its split.json."""
    written = run_dir / "baseline" / "metrics.json"
    if not written.exists():
        run_review_cls("baseline", f"data={data}", f"data.split_file={run_dir / 'split.json'}",
                       f"hydra.run.dir={run_dir / 'baseline'}")
    return json.loads(written.read_text())["metrics"]


def rarest_label(run_dir: Path) -> str:
    """The class with the fewest test reviews, from the classification report of the baseline on the run's split."""
    report = json.loads((run_dir / "baseline" / "classification_report.json").read_text())
    supports = {name: row["support"] for name, row in report.items() if isinstance(row, dict) and "avg" not in name}
    return min(supports, key=supports.get)


def summarize(out: Path, data: str) -> str:
    """Mean and std over seeds of test macro-F1, weighted F1 and the rarest class's F1, as a Markdown table."""
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    rows = [row for row in rows if "metrics" in row]
    by_name: dict[str, list[dict[str, float]]] = {}
    for row in rows:
        by_name.setdefault(row["experiment"], []).append(row["metrics"])
    baseline_seeds = sorted({row["seed"] for row in rows})
    by_name["TF-IDF + LR (baseline)"] = [
        baseline_metrics(Path(next(r["run_dir"] for r in rows if r["seed"] == seed)), data) for seed in baseline_seeds
    ]
    rarest = rarest_label(Path(rows[0]["run_dir"]))

    def cell(values: list[float]) -> str:
        if len(values) == 1:
            return f"{values[0]:.3f}"
        spread = mean_std(values)
        return f"{spread['mean']:.3f} ± {spread['std']:.3f}"

    lines = [f"| configuration | seeds | test macro-F1 | test weighted F1 | test F1 `{rarest}` (rarest) |",
             "|---|---|---|---|---|"]
    for name, metrics in by_name.items():
        columns = [[m[key] for m in metrics] for key in ("test/f1_macro", "test/f1_weighted", f"test/f1/{rarest}")]
        lines.append(f"| {name} | {len(metrics)} | " + " | ".join(cell(values) for values in columns) + " |")
    return "\n".join(lines)


def done_pairs(out: Path) -> set[tuple[str, int]]:
    if not out.exists():
        return set()
    return {(row["experiment"], row["seed"]) for row in map(json.loads, out.read_text().splitlines()) if "metrics" in row}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="google_play")
    parser.add_argument("--experiments", nargs="+", default=list(EXPERIMENTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--max-epochs", type=int, default=2)
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--lr", default="5e-5")
    parser.add_argument("--accelerator", default="cpu", help="cpu, gpu or auto")
    parser.add_argument("--runs", type=Path, default=RESULTS / "ablation_runs")
    parser.add_argument("--out", type=Path, default=RESULTS / "ablation.jsonl")
    parser.add_argument("--summarize", action="store_true", help="print the table of what --out holds and exit")
    parser.add_argument("extra", nargs="*", help="more Hydra overrides for every run")
    args = parser.parse_args()
    if args.summarize:
        table = summarize(args.out, args.data)
        (args.out.with_suffix(".md")).write_text(table + "\n")
        print(table)
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    finished = done_pairs(args.out)
    for seed in args.seeds:
        for experiment in args.experiments:
            if (experiment, seed) in finished:
                continue
            try:
                row = run_one(experiment, seed, args)
            except RuntimeError as exc:  # one failed run must not cost the rest of the ablation
                print(exc, flush=True)
                continue
            with args.out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            print(f"{experiment} seed {seed}: test/f1_macro={row['metrics'].get('test/f1_macro')} "
                  f"({row['seconds']} s)", flush=True)


if __name__ == "__main__":
    main()
