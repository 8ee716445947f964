"""Cost growth with data size: data preparation time, training time per epoch and peak memory at 1k...62k reviews.

Each size runs in a fresh subprocess (so peak RSS is that size's own) on a seeded random sample of the Chinese
online-shopping reviews, through the real pipeline: ``ReviewDataModule.setup`` (read, clean, split, build the
character vocab, tokenize once) and the Lightning training path of ``+experiment=char_bert`` (the small BERT
trained from scratch that ``conf/model/char_bert.yaml`` defines).

- prep seconds: wall time of ``setup`` (measured at every size);
- epoch seconds: sizes up to ``--full-epoch-max`` train one whole epoch and its wall time is measured. Every size
  also times ``--steps`` steps after one warm-up step: seconds per padded token times the padded tokens of a whole
  epoch (computed exactly from the epoch's length-grouped batches) gives an estimate, which the measured sizes check
  and which stands in for the sizes too slow to run on this CPU (stated as such in the table);
- peak RSS: ``ru_maxrss`` of the subprocess after prep and after the training steps, minus the RSS after imports.

    python -m bench.cost_growth --sizes 1000 4000 16000 62000 --steps 8 --full-epoch-max 62000 --threads 1
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.common import WORK, machine, sample_file, save_result


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def epoch_padded_tokens(datamodule) -> int:
    """Padded tokens of one training epoch: every batch padded to its own longest review."""
    lengths = datamodule.datasets["train"].lengths
    order = list(iter(datamodule.train_dataloader().sampler))
    size = datamodule.settings.batch_size
    return int(sum(len(order[i : i + size]) * max(lengths[j] for j in order[i : i + size])
                   for i in range(0, len(order), size)))


def measure_one(size: int, steps: int, full_epoch: bool) -> dict:
    """Runs inside the subprocess for one size."""
    import lightning as L
    from hydra import compose, initialize_config_dir

    from review_cls.training.builders import build_datamodule, build_model, build_trainer

    class StepTimer(L.Callback):
        def __init__(self) -> None:
            self.started, self.tokens, self.seconds = 0.0, 0, 0.0
            self.epoch_started, self.epoch_seconds = 0.0, 0.0

        def on_train_epoch_start(self, trainer, pl_module) -> None:
            self.epoch_started = time.perf_counter()

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            self.started = time.perf_counter()

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            self.epoch_seconds = time.perf_counter() - self.epoch_started
            if 0 < batch_idx <= steps:  # the first step warms up
                self.seconds += time.perf_counter() - self.started
                self.tokens += batch["input_ids"].numel()

    path = sample_file(size)
    overrides = ["data=shopping_zh", f"data.path={path}", "+experiment=char_bert", "callbacks=none",
                 "trainer.max_epochs=1", f"+trainer.limit_train_batches={1.0 if full_epoch else steps + 1}",
                 "+trainer.limit_val_batches=0",
                 "+trainer.enable_checkpointing=false", "+trainer.enable_progress_bar=false",
                 "trainer.accelerator=cpu", f"paths.output_dir={WORK / f'run_{size}'}", "baseline=false"]
    with initialize_config_dir(version_base="1.3", config_dir=str(Path("conf").resolve())):
        cfg = compose("train", overrides=overrides)
    rss_imports = current_rss_mb()
    started = time.perf_counter()
    datamodule = build_datamodule(cfg)
    prep_seconds = time.perf_counter() - started
    peak_prep = rss_mb()
    padded = epoch_padded_tokens(datamodule)
    model = build_model(cfg, datamodule)
    timer = StepTimer()
    build_trainer(cfg, [timer], []).fit(model, datamodule=datamodule)
    per_token = timer.seconds / timer.tokens
    return {"size": size, "file_mb": path.stat().st_size / 2**20, "train_reviews": len(datamodule.datasets["train"]),
            "prep_seconds": prep_seconds, "epoch_padded_tokens": padded, "seconds_per_1k_tokens": per_token * 1000,
            "epoch_seconds_estimate": per_token * padded, "timed_steps": steps,
            "epoch_seconds_measured": timer.epoch_seconds if full_epoch else None, "rss_after_imports_mb": rss_imports,
            "peak_rss_prep_mb": peak_prep, "peak_rss_train_mb": rss_mb()}


def plot(rows: list[dict], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [row["size"] for row in rows]
    figure, (times, memory) = plt.subplots(1, 2, figsize=(10, 4))
    times.plot(sizes, [row["prep_seconds"] for row in rows], "o-", label="data prep (measured)")
    times.plot(sizes, [row["epoch_seconds_estimate"] for row in rows], "s--", label="1 epoch (from timed steps)")
    measured = [row for row in rows if row.get("epoch_seconds_measured")]
    times.plot([row["size"] for row in measured], [row["epoch_seconds_measured"] for row in measured], "^-",
               label="1 epoch (measured)")
    times.set(xscale="log", yscale="log", xlabel="reviews", ylabel="seconds", title="time")
    times.legend()
    memory.plot(sizes, [row["peak_rss_prep_mb"] - row["rss_after_imports_mb"] for row in rows], "o-",
                label="peak RSS of prep above imports")
    memory.plot(sizes, [row["file_mb"] for row in rows], "x:", label="raw file size")
    memory.set(xlabel="reviews (linear axis: a straight line is linear growth)", ylabel="MiB", title="memory")
    memory.legend()
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 4000, 16000, 62000])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--full-epoch-max", type=int, default=16000, help="train a whole epoch up to this size")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--plot", type=Path, default=Path("docs/cost_growth.png"))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.one is not None:
        print("RESULT " + json.dumps(measure_one(args.one, args.steps, args.one <= args.full_epoch_max)))
        return
    result = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "rows": []}
    for size in args.sizes:
        completed = subprocess.run([sys.executable, "-m", "bench.cost_growth", "--one", str(size), "--steps",
                                    str(args.steps), "--threads", str(args.threads), "--full-epoch-max",
                                    str(args.full_epoch_max)], capture_output=True, text=True)
        line = next((l for l in completed.stdout.splitlines() if l.startswith("RESULT ")), None)
        if line is None:
            raise SystemExit(f"size {size} failed:\n{completed.stderr[-3000:]}")
        result["rows"].append(json.loads(line[len("RESULT "):]))
        print(result["rows"][-1], flush=True)
        save_result("cost_growth", result)
    plot(result["rows"], args.plot)


if __name__ == "__main__":
    main()
