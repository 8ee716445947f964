"""CPU inference: PyTorch vs ONNX Runtime float32 vs ONNX Runtime int8, through the whole predict command.

The checkpoint is exported twice (``format=onnx`` and ``format=onnx quantize=int8``). For each thread count the
same 20,000 reviews (the 4,000 Google Play reviews repeated, as in ``bench.inference_throughput``) go through
``python -m review_cls.predict`` with ``runtime=torch`` (the checkpoint), then ``runtime=onnx`` on each export
(subprocess wall time and CPU time: start-up, read, tokenize, length-sorted batches of 64, predict, write;
insights off; ``OMP_NUM_THREADS`` = the thread count, which ONNX Runtime's session also uses). Agreement with
PyTorch is read from the output files: share of identical labels and the largest probability difference. Test macro-F1 is scored on the
checkpoint's own test split (``test_predictions.csv`` of its run folder: text and true label).

    python -m bench.onnx_throughput --ckpt lightning_logs/<run>/checkpoints/best-epoch02.ckpt --threads 1 2
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import RESULTS, machine, save_result
from bench.inference_throughput import input_file

BATCH = 64
RUNTIMES = ("pytorch", "onnx_fp32", "onnx_int8")


def export_folders(ckpt: Path, work: Path) -> dict[str, Path]:
    """The two ONNX exports of ``ckpt`` (float32 and int8 weights), rewritten on every run."""
    from review_cls.inference.export_folder import export_model

    return {"onnx_fp32": export_model(ckpt, work / "export_fp32", overwrite=True, export_format="onnx"),
            "onnx_int8": export_model(ckpt, work / "export_int8", overwrite=True, export_format="onnx",
                                      quantize="int8")}


def predict_command(model: Path, runtime: str, source: Path, output: Path, threads: int) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one ``python -m review_cls.predict`` over ``source``.

    On a shared machine the wall time depends on the other processes; the CPU time much less so.
    """
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    command = [sys.executable, "-m", "review_cls.predict", f"ckpt_path={model}", f"input={source}", f"output={output}",
               f"batch_size={BATCH}", f"runtime={runtime}", "insights=false", "progress=false", "device=cpu",
               "overwrite=true"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def agreement(reference: pd.DataFrame, other: pd.DataFrame) -> dict[str, float]:
    """Share of rows with the same predicted label, and the largest absolute probability difference."""
    columns = [column for column in reference if column.startswith("prob_")]
    same = (reference["predicted_label"] == other["predicted_label"]).mean()
    return {"identical_labels": float(same),
            "max_prob_diff": float(np.abs(reference[columns].to_numpy() - other[columns].to_numpy()).max())}


def test_macro_f1(ckpt: Path, folders: dict[str, Path]) -> dict[str, float]:
    """Macro-F1 of each runtime on the run's test split, predicted in-process with the same batches."""
    from sklearn.metrics import f1_score

    from review_cls.inference.onnx_runtime import load_onnx_predictor
    from review_cls.inference.predictor import load_predictor

    test = pd.read_csv(ckpt.parent.parent / "test_predictions.csv")
    predictors = {"pytorch": load_predictor(ckpt, device="cpu", blend=False),
                  **{name: load_onnx_predictor(folder) for name, folder in folders.items()}}
    scores = {}
    for name, predictor in predictors.items():
        probabilities = predictor.predict_probabilities(test["text"].astype(str).tolist(), BATCH)
        predicted = np.asarray(predictor.labels)[probabilities.argmax(axis=1)]
        scores[name] = float(f1_score(test["true_label"], predicted, average="macro"))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ckpt", type=Path, required=True, help="a Google Play checkpoint inside its run folder")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    work = RESULTS / "onnx_work"
    work.mkdir(parents=True, exist_ok=True)
    folders = export_folders(args.ckpt, work)
    source = input_file(args.n, work / "reviews.csv")
    models = {"pytorch": (args.ckpt, "torch"), **{name: (folder, "onnx") for name, folder in folders.items()}}
    result = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "reviews": args.n,
              "onnx_file_mb": {name: (path / "model.onnx").stat().st_size / 2**20 for name, path in folders.items()},
              "test_macro_f1": test_macro_f1(args.ckpt, folders), "runs": []}
    save_result("onnx_throughput", result)
    for threads in args.threads:
        outputs = {}
        for name, (model, runtime) in models.items():
            load = os.getloadavg()[0]
            output = work / f"{name}_{threads}.csv"
            seconds, cpu_seconds = predict_command(model, runtime, source, output, threads)
            outputs[name] = pd.read_csv(output)
            run = {"threads": threads, "runtime": name, "seconds": seconds, "reviews_per_s": args.n / seconds,
                   "cpu_seconds": cpu_seconds, "reviews_per_cpu_s": args.n / cpu_seconds,
                   "load_1min_before": load, "load_1min_after": os.getloadavg()[0],
                   **agreement(outputs["pytorch"], outputs[name])}
            result["runs"].append(run)
            print(run, flush=True)
            save_result("onnx_throughput", result)
    print(result["test_macro_f1"], result["onnx_file_mb"])


if __name__ == "__main__":
    main()
