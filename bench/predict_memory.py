"""Peak memory of ``python -m review_cls.predict`` as the input grows: it must stay flat (chunked read and write).

Builds synthetic CSVs from the demo reviews repeated (with a unique ``review_id``), runs predict on each as a
subprocess and samples the resident memory (RSS) of the process every 20 ms with psutil.

    python -m bench.predict_memory --rows 10000 200000                    # tiny random BERT, quick
    python -m bench.predict_memory --rows 10000 --ckpt path/to/best.ckpt  # a real checkpoint (MiniLM)

Results: bench/results/predict_memory[_<tag>].json, summarised by hand in docs/predict_memory.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

from bench.common import machine, run_review_cls, save_result
from tests.helpers import DEMO_CSV

CHUNK_SIZE = 10_000


def synthetic_csv(rows: int, folder: Path) -> Path:
    """``rows`` demo reviews (repeated), each with its own id, and the demo's rating and date columns."""
    demo = pd.read_csv(DEMO_CSV).drop(columns=["category"])
    path = folder / f"reviews_{rows}.csv"
    repeats = -(-rows // len(demo))
    frame = pd.concat([demo] * repeats, ignore_index=True).head(rows)
    frame["review_id"] = range(1, rows + 1)
    frame.to_csv(path, index=False)
    return path


def tiny_checkpoint(folder: Path) -> Path:
    """A 1-epoch tiny-BERT checkpoint (the tests' model), so the benchmark measures predict, not the encoder."""
    from tests.helpers import tiny_overrides, write_tiny_bert

    data = folder / "train.csv"
    pd.read_csv(DEMO_CSV).groupby("category").head(30).to_csv(data, index=False)
    out = folder / "run"
    settings = [o for o in tiny_overrides(write_tiny_bert(folder / "bert"), data, out) if not o.startswith("paths.")]
    run_review_cls("train", *settings, "trainer.max_epochs=1", f"hydra.run.dir={out}")
    return out / "checkpoints" / "last.ckpt"


def peak_rss(command: list[str]) -> tuple[int, float, int]:
    """(peak RSS in bytes of the process and its children, wall seconds, exit code)."""
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                tree = [process, *process.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    stop.set()
    sampler.join()
    if process.returncode != 0:
        print(stderr[-3000:], file=sys.stderr)
    return peak, time.perf_counter() - start, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--ckpt", help="checkpoint or exported folder (default: a tiny BERT trained for 1 epoch)")
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--tag", default="", help="suffix of the result file name")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="predict_memory_") as scratch:
        folder = Path(scratch)
        ckpt = args.ckpt or str(tiny_checkpoint(folder))
        results = []
        for rows in args.rows:
            source = synthetic_csv(rows, folder)
            output = folder / f"predictions_{rows}.csv"
            command = [sys.executable, "-m", "review_cls.predict", f"ckpt_path={ckpt}", f"input={source}",
                       f"output={output}", f"chunk_size={args.chunk_size}", f"batch_size={args.batch_size}",
                       "progress=false"]
            peak, seconds, code = peak_rss(command)
            if code != 0:
                raise SystemExit(f"predict failed on {rows} rows (exit {code})")
            written = len(pd.read_csv(output, usecols=["review_id"]))
            result = {"rows": rows, "rows_written": written, "input_mb": source.stat().st_size / 2**20,
                      "output_mb": output.stat().st_size / 2**20, "peak_rss_mb": peak / 2**20, "wall_s": seconds,
                      "rows_per_s": rows / seconds}
            print(result, flush=True)
            results.append(result)
            source.unlink()
            output.unlink()
    name = "predict_memory" + (f"_{args.tag}" if args.tag else "")
    path = save_result(name, {"machine": machine(), "ckpt": args.ckpt or "tiny BERT (tests), 1 epoch",
                              "chunk_size": args.chunk_size, "batch_size": args.batch_size, "results": results})
    print(f"-> {path}")


if __name__ == "__main__":
    main()
