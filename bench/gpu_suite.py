"""The report of bench/gpu_suite.sh: model / TF-IDF / blend rows of its runs (bench/blend_rules.py), then per run the
training reviews/s and the model FLOP utilisation, from the ``fit_timing.json`` that :class:`FitTimer` (a callback
the script adds to each run) writes.

Model FLOPs are estimated from the encoder's config: its transformer layers hold ``L * (4 H^2 + 2 H I)`` matmul
weights (attention projections and feed-forward; embeddings are lookups, and attention scores add ~3% on reviews of
60 tokens), a forward pass costs 2 FLOPs per weight per token, a training step 3x that (forward + backward), over
the real (unpadded) tokens of the training batches. Utilisation is that over the training time (validation
excluded) and the GPU's dense bf16 peak (``--peak-tflops``; an H100 SXM: 989).

    python -m bench.gpu_suite bench/results/gpu_suite --peak-tflops 989
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch

from bench.blend_rules import finished_runs, markdown_tables, run_rows, suite_place
from review_cls.utils.atomic import atomic_file

TIMING_JSON = "fit_timing.json"
H100_SXM_BF16_TFLOPS = 989.0


def matmul_parameters(config: Any) -> int:
    """The transformer layers' matmul weights of a BERT-family config: ``L * (4 H^2 + 2 H I)``."""
    hidden, inner = config.hidden_size, config.intermediate_size
    return int(config.num_hidden_layers * (4 * hidden * hidden + 2 * hidden * inner))


class FitTimer(L.Callback):
    """Training time without its validation passes, the reviews and real tokens trained on, and the encoder's matmul
    weights, written to ``path`` when training ends (rank 0)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.reviews, self.tokens, self.validation_seconds = 0, None, 0.0
        self.started = self.validation_started = 0.0

    def now(self, trainer: L.Trainer) -> float:
        """The time once the GPU has finished its queued work (CUDA runs asynchronously)."""
        if trainer.strategy.root_device.type == "cuda":
            torch.cuda.synchronize(trainer.strategy.root_device)
        return time.perf_counter()

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.tokens = torch.zeros((), dtype=torch.long, device=pl_module.device)
        self.started = self.now(trainer)

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int) -> None:
        self.reviews += len(batch["input_ids"])
        self.tokens += batch["attention_mask"].sum()  # stays on the device: no synchronisation per step

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.validation_started = self.now(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.validation_seconds += self.now(trainer) - self.validation_started

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        total = self.now(trainer) - self.started
        if not trainer.is_global_zero:
            return
        device = trainer.strategy.root_device
        record = {
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else device.type,
            "precision": str(trainer.precision), "epochs": trainer.current_epoch, "reviews": self.reviews,
            "tokens": int(self.tokens.item()), "train_seconds": total - self.validation_seconds,
            "validation_seconds": self.validation_seconds,
            "matmul_parameters": matmul_parameters(pl_module.model.config),
        }
        with atomic_file(self.path) as temporary:
            temporary.write_text(json.dumps(record, indent=2), encoding="utf-8")


def throughput_rows(runs: list[Path], peak_tflops: float) -> str:
    """Per run: device, reviews and tokens trained on, reviews/s and the model FLOP utilisation, as Markdown."""
    lines = ["| recipe | set | device | precision | epochs | reviews trained | train s | reviews/s | tokens/s | "
             "matmul params | model FLOP utilisation |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        path = run / TIMING_JSON
        if not path.is_file():
            continue
        timing = json.loads(path.read_text(encoding="utf-8"))
        seconds = max(timing["train_seconds"], 1e-9)
        flops = 6 * timing["matmul_parameters"] * timing["tokens"]
        recipe, name, _ = suite_place(run)
        lines.append(f"| {recipe} | {name} | {timing['device']} | {timing['precision']} | {timing['epochs']} | "
                     f"{timing['reviews']} | {seconds:.1f} | {timing['reviews'] / seconds:,.0f} | "
                     f"{timing['tokens'] / seconds:,.0f} | {timing['matmul_parameters'] / 1e6:.1f}M | "
                     f"{flops / seconds / (peak_tflops * 1e12):.2%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the folder bench/gpu_suite.sh wrote its runs into")
    parser.add_argument("--peak-tflops", type=float, default=H100_SXM_BF16_TFLOPS,
                        help="the GPU's dense bf16 peak, TFLOP/s")
    args = parser.parse_args(argv)
    runs = finished_runs([str(args.out)])
    if not runs:
        raise SystemExit(f"No finished run folders under {args.out}.")
    print(markdown_tables(run_rows(runs)))
    print()
    print(throughput_rows(runs, args.peak_tflops))


if __name__ == "__main__":
    main()
