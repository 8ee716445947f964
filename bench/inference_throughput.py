"""Inference throughput: the whole ``python -m review_cls.predict`` command against a raw ``model(**batch)`` loop.

- ``raw_loop``: the same checkpoint's model, reviews tokenized beforehand (not timed), batches of 64 in file order
  padded to their longest review, ``torch.inference_mode``; only the forward passes are timed. ``--raw-rows N``
  times only the batches of the first N rows: the input is the same 4,000 distinct reviews repeated, so one pass
  over them has the length mix of the whole file and the per-review cost of the full loop.
- ``predict_command``: wall time of the subprocess ``python -m review_cls.predict`` (start-up, read, tokenize, sort by
  length within each chunk, predict, write the CSV; the optional insights folder is switched off).
- ``--blend``: what the TF-IDF half of the blended predictor adds: seconds per 1,000 reviews of the model's
  ``predict_probabilities`` (PyTorch, and ONNX Runtime with ``--onnx``) and of the stored TF-IDF pipeline's, timed
  in turn on the same ``--raw-rows`` reviews (TF-IDF fitted on the training split of a seed-42 Google Play run,
  written and read back through review_cls/models/tfidf_store.py); and the size of that file and of the demo's.

The input is the Google Play reviews repeated to ``--n`` rows. Without ``--ckpt`` a MiniLM checkpoint is made by a
one-batch training run (its weights do not matter for speed).

    python -m bench.inference_throughput --n 20000 --repeats 3 --raw-rows 4000 --threads 1
    python -m bench.inference_throughput --blend --onnx --repeats 5 --raw-rows 2000 --threads 1
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from bench.common import (GOOGLE_PLAY, RESULTS, clean_splits, fit_tfidf, machine, median, require,
                          save_result)

BATCH = 64
DEMO = Path("review_cls/data/demo/shopping_app_reviews_en.csv")


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

    predictor = load_predictor(ckpt, device="cpu", blend=False)  # the model itself: its tokenizer and forward
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


def stored_tfidf_files(work: Path) -> dict[str, Path]:
    """The TF-IDF pipeline of a seed-42 run on the demo data and on Google Play (its training split), written by
    review_cls/models/tfidf_store.py: ``{set: file}``."""
    from review_cls.models.tfidf_store import save_tfidf

    sets = {"demo": (DEMO, "category", 0.15), "google_play": (GOOGLE_PLAY, "label", 0.1)}
    files = {}
    for name, (path, label_column, held_out) in sets.items():
        splits, labels = clean_splits(path, "review", label_column, seed=42, val_size=held_out, test_size=held_out)
        pipeline = fit_tfidf(splits["train"].texts, splits["train"].label_ids(labels), seed=42)
        files[name] = save_tfidf(pipeline, labels, work / f"tfidf_{name}.npz")
    return files


def blend_cost(ckpt: Path, texts: list[str], repeats: int, work: Path, onnx: bool) -> dict:
    """Seconds per 1,000 reviews of each runtime's model and of the TF-IDF half (Google Play's), and the TF-IDF
    half's share of the model's time (medians of ``repeats`` rounds, each timing every part once on the same
    reviews); the TF-IDF files' sizes."""
    from review_cls.inference.export_folder import export_model
    from review_cls.inference.onnx_runtime import load_onnx_predictor
    from review_cls.inference.predictor import load_predictor
    from review_cls.models.tfidf_store import load_tfidf

    files = stored_tfidf_files(work)
    stored = load_tfidf(files["google_play"])
    torch_model = load_predictor(ckpt, blend=False)
    parts = {"torch": lambda: torch_model.predict_probabilities(texts, BATCH)}
    if onnx:
        folder = export_model(ckpt, work / "export_onnx", overwrite=True, export_format="onnx")
        onnx_model = load_onnx_predictor(folder)
        parts["onnx"] = lambda: onnx_model.predict_probabilities(texts, BATCH)
    parts["tfidf"] = lambda: stored.predict_probabilities(texts)
    seconds: dict[str, list[float]] = {name: [] for name in parts}
    for _ in range(repeats):
        for name, run in parts.items():
            started = time.perf_counter()
            run()
            seconds[name].append((time.perf_counter() - started) * 1000 / len(texts))
    per_1000 = {name: median(values) for name, values in seconds.items()}
    share = {runtime: per_1000["tfidf"] / per_1000[runtime] for runtime in parts if runtime != "tfidf"}
    return {"seconds_per_1000": seconds, "median_seconds_per_1000": per_1000, "tfidf_share_of_model": share,
            "tfidf_file_bytes": {name: path.stat().st_size for name, path in files.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--ckpt", type=Path, default=None)
    parser.add_argument("--raw-rows", type=int, default=0, help="time the raw loop on the first N rows only (0: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--blend", action="store_true", help="time the TF-IDF half of the blend against the model")
    parser.add_argument("--onnx", action="store_true", help="with --blend: the ONNX Runtime model too")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    work = RESULTS / "inference_work"
    work.mkdir(parents=True, exist_ok=True)
    ckpt = args.ckpt or make_checkpoint(work / "run")
    source = input_file(args.n, work / "reviews.csv")
    texts = pd.read_csv(source)["review"].astype(str).tolist()
    if args.blend:
        result = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()},
                  **blend_cost(ckpt, texts[: args.raw_rows or None], args.repeats, work, args.onnx)}
        per_1000 = {name: round(value, 3) for name, value in result["median_seconds_per_1000"].items()}
        shares = {name: f"{share:.1%}" for name, share in result["tfidf_share_of_model"].items()}
        print("TF-IDF file bytes:", result["tfidf_file_bytes"], "s per 1,000:", per_1000, "TF-IDF / model:", shares)
        save_result("inference_throughput_blend", result)
        return
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
