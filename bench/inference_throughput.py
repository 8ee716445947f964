"""Inference throughput: the whole ``python -m review_cls.predict`` command against a raw ``model(**batch)`` loop.

- ``raw_loop``: the same checkpoint's model, reviews tokenized beforehand (not timed), batches of 64 in file order
  padded to their longest review, ``torch.inference_mode``; only the forward passes are timed. ``--raw-rows N``
  times only the batches of the first N rows: the input is the same 4,000 distinct reviews repeated, so one pass
  over them has the length mix of the whole file and the per-review cost of the full loop.
- ``predict_command``: wall time of the subprocess ``python -m review_cls.predict`` (start-up, read, tokenize, sort by
  length within each chunk, predict, write the CSV; the optional insights folder is switched off).

The input is the Google Play reviews repeated to ``--n`` rows. Without ``--ckpt`` a MiniLM checkpoint is made by a
one-batch training run (its weights do not matter for speed).

    python -m bench.inference_throughput --n 20000 --repeats 3 --raw-rows 4000 --threads 1
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from bench.common import GOOGLE_PLAY, RESULTS, machine, median, require, save_result

BATCH = 64


def make_checkpoint(workdir: Path) -> Path:
    """A MiniLM classifier checkpoint for the Google Play labels from a one-batch training run."""
    command = [sys.executable, "-m", "review_cls.train", "data=google_play", "trainer.max_epochs=1",
               "+trainer.limit_train_batches=1", "+trainer.limit_val_batches=1", "test=false", "baseline=false",
               "callbacks.progress_bar=null", f"hydra.run.dir={workdir}", "trainer.accelerator=cpu"]
    subprocess.run(command, check=True, capture_output=True)
    return workdir / "checkpoints" / "last.ckpt"


def input_file(n: int, path: Path) -> Path:
    reviews = pd.read_excel(require(GOOGLE_PLAY))["review"].astype(str)
    repeated = pd.concat([reviews] * (n // len(reviews) + 1), ignore_index=True).iloc[:n]
    pd.DataFrame({"review": repeated}).to_csv(path, index=False)
    return path


@torch.inference_mode()
def raw_loop(ckpt: Path, texts: list[str]) -> float:
    """Reviews/s of the forward passes alone over pre-tokenised, file-order batches."""
    from transformers import DataCollatorWithPadding

    from review_cls.data.batching import tokenize_texts
    from review_cls.inference.predictor import load_predictor

    predictor = load_predictor(ckpt, device="cpu")
    ids = tokenize_texts(predictor.tokenizer, texts, predictor.max_length)
    collator = DataCollatorWithPadding(predictor.tokenizer, padding="longest")
    batches = [collator([{"input_ids": ids[j]} for j in range(i, min(i + BATCH, len(ids)))])
               for i in range(0, len(ids), BATCH)]
    started = time.perf_counter()
    for batch in batches:
        predictor.model(batch["input_ids"], batch["attention_mask"])
    return len(texts) / (time.perf_counter() - started)


def predict_command(ckpt: Path, source: Path, output: Path, threads: int) -> float:
    import os

    env = os.environ | ({"OMP_NUM_THREADS": str(threads)} if threads else {})
    command = [sys.executable, "-m", "review_cls.predict", f"ckpt_path={ckpt}", f"input={source}", f"output={output}",
               f"batch_size={BATCH}", "insights=false", "progress=false", "device=cpu", "overwrite=true"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--ckpt", type=Path, default=None)
    parser.add_argument("--raw-rows", type=int, default=0, help="time the raw loop on the first N rows only (0: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    work = RESULTS / "inference_work"
    work.mkdir(parents=True, exist_ok=True)
    ckpt = args.ckpt or make_checkpoint(work / "run")
    source = input_file(args.n, work / "reviews.csv")
    texts = pd.read_csv(source)["review"].astype(str).tolist()
    result = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "reviews": len(texts),
              "raw_loop": [], "predict_command": []}
    for repeat in range(args.repeats):  # interleaved, so a load spike on the shared machine hits both
        result["raw_loop"].append(raw_loop(ckpt, texts[: args.raw_rows or None]))
        result["predict_command"].append(len(texts) / predict_command(ckpt, source, work / "predictions.csv", args.threads))
        print(f"repeat {repeat}: raw {result['raw_loop'][-1]:.1f}/s, command {result['predict_command'][-1]:.1f}/s",
              flush=True)
        save_result("inference_throughput", result)
    result["median_reviews_per_s"] = {name: median(result[name]) for name in ("raw_loop", "predict_command")}
    result["command_over_raw"] = result["median_reviews_per_s"]["predict_command"] / result["median_reviews_per_s"]["raw_loop"]
    print(result["median_reviews_per_s"], f"command/raw = {result['command_over_raw']:.2f}")
    save_result("inference_throughput", result)


if __name__ == "__main__":
    main()
