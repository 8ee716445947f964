"""Batch predict on Ray Data against the local predict: reviews/s of ``python -m review_cls.predict`` with
``engine=local`` (1 and 2 torch threads) and ``engine=ray`` (1 actor and 2 actors of 1 CPU each, a local Ray).

Every method is the whole command in a subprocess on the same MiniLM checkpoint and the same input (the Google Play
reviews repeated to ``--n`` rows, CSV), ``insights=false``, batch 64; the methods run interleaved in each repeat, so a
load spike on the shared machine hits all of them. For Ray the script also reads the command's own line with the time
Ray took to read, predict and write (the actors' start and model loading included, Ray's own start not): that is the
rate a long run on a cluster approaches.

    python -m bench.ray_throughput --n 5000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import RESULTS, machine, median, save_result
from bench.inference_throughput import input_file, make_checkpoint

BATCH = 64
# method -> (overrides, torch threads of the command's own process)
METHODS = {
    "local_1_thread": (["engine=local"], 1),
    "local_2_threads": (["engine=local"], 2),
    "ray_1_actor": (["engine=ray", "ray.actors=1", "ray.cpus_per_actor=1"], 1),
    "ray_2_actors": (["engine=ray", "ray.actors=2", "ray.cpus_per_actor=1"], 1),
}
RAY_SECONDS = re.compile(r"Ray read, predicted and wrote the rows in ([\d.]+) s")


def run_command(ckpt: Path, source: Path, output: Path, overrides: list[str], threads: int) -> tuple[float, str]:
    """Wall seconds of one predict command, and its log."""
    shutil.rmtree(output, ignore_errors=True)
    output.unlink(missing_ok=True)
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "RAY_USAGE_STATS_ENABLED": "0"}
    command = [sys.executable, "-m", "review_cls.predict", f"ckpt_path={ckpt}", f"input={source}", f"output={output}",
               f"batch_size={BATCH}", "insights=false", "progress=false", "device=cpu", "overwrite=true", *overrides]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ckpt", type=Path, default=None)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    args = parser.parse_args()
    work = RESULTS / "ray_work"
    work.mkdir(parents=True, exist_ok=True)
    ckpt = args.ckpt or make_checkpoint(work / "run")
    source = input_file(args.n, work / "reviews.csv")
    result = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "reviews": args.n,
              "command_reviews_per_s": {name: [] for name in args.methods},
              "ray_pipeline_reviews_per_s": {name: [] for name in args.methods if name.startswith("ray")}}
    for repeat in range(args.repeats):
        for name in args.methods:
            overrides, threads = METHODS[name]
            output = work / ("predictions" if name.startswith("ray") else "predictions.csv")
            seconds, log = run_command(ckpt, source, output, overrides, threads)
            result["command_reviews_per_s"][name].append(args.n / seconds)
            line = f"repeat {repeat} {name}: command {args.n / seconds:.1f}/s"
            if name.startswith("ray"):
                pipeline = float(RAY_SECONDS.search(log)[1])
                result["ray_pipeline_reviews_per_s"][name].append(args.n / pipeline)
                line += f", Ray pipeline {args.n / pipeline:.1f}/s"
            print(line, flush=True)
            save_result("ray_throughput", result)
    result["medians"] = {kind: {name: median(values) for name, values in result[kind].items()}
                         for kind in ("command_reviews_per_s", "ray_pipeline_reviews_per_s")}
    base = result["medians"]["command_reviews_per_s"].get("local_1_thread")
    if base:
        result["command_vs_local_1_thread"] = {name: value / base
                                               for name, value in result["medians"]["command_reviews_per_s"].items()}
    print(result["medians"], result.get("command_vs_local_1_thread"))
    save_result("ray_throughput", result)


if __name__ == "__main__":
    main()
