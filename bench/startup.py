"""Start-up: seconds from launching ``python -m review_cls.train`` to its first training step.

A callback (added with a Hydra override, nothing in the project changes) prints wall-clock stamps when
``trainer.fit`` starts (data read, split, tokenized; model built) and when the first training batch starts; the run
stops after one step. Also timed: ``python -m review_cls.<command> --help`` of every command (read from conf/, no
config composed) beside ``--cfg job`` (Hydra composing the config, as Hydra's own help does), and
``import review_cls.jobs.train`` (torch, Lightning, transformers).

    nice -n 10 python -m bench.startup --repeats 3
    python -m bench.startup --repeats 5 --help-only
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import lightning as L

from bench.common import machine, median, save_result
from review_cls.command_help import COMMANDS

STAMP = "STARTUP_STAMP"


class FirstStepStamp(L.Callback):
    """Prints ``STARTUP_STAMP <event> <unix time>`` at fit start and at the first training batch."""

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        print(f"{STAMP} fit_start {time.time()}", flush=True)

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        if batch_idx == 0:
            print(f"{STAMP} first_step {time.time()}", flush=True)


def timed(command: list[str]) -> tuple[float, str]:
    started = time.time()
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return started, completed.stdout


def first_step(data: str) -> dict[str, float]:
    command = [sys.executable, "-m", "review_cls.train", f"data={data}", "+callbacks.stamp._target_=bench.startup.FirstStepStamp",
               "+trainer.max_steps=1", "+trainer.limit_val_batches=0", "test=false", "baseline=false",
               "callbacks.early_stopping=null", "callbacks.model_checkpoint=null",
               "callbacks.progress_bar=null", "hydra.run.dir=bench/results/startup_run", "trainer.accelerator=cpu"]
    started, stdout = timed(command)
    stamps = {line.split()[1]: float(line.split()[2]) for line in stdout.splitlines() if line.startswith(STAMP)}
    return {"to_fit_start": stamps["fit_start"] - started, "to_first_step": stamps["first_step"] - started}


def seconds(command: list[str]) -> float:
    started = time.time()
    subprocess.run(command, capture_output=True, check=True)
    return time.time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default="demo")
    parser.add_argument("--help-only", action="store_true", help="time --help and --cfg job only")
    args = parser.parse_args()
    timings: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for name in COMMANDS:  # side by side in each round
            timings.setdefault(f"{name} --help", []).append(seconds([sys.executable, "-m", f"review_cls.{name}",
                                                                     "--help"]))
            timings.setdefault(f"{name} --cfg job", []).append(seconds([sys.executable, "-m", f"review_cls.{name}",
                                                                        "--cfg", "job"]))
        if not args.help_only:
            timings.setdefault("import_training", []).append(
                seconds([sys.executable, "-c", "import review_cls.jobs.train"]))
            for name, value in first_step(args.data).items():
                timings.setdefault(name, []).append(value)
        save_result("startup", {"machine": machine(), "args": vars(args), "seconds": timings})
    result = {"machine": machine(), "args": vars(args), "seconds": timings,
              "median_s": {name: median(values) for name, values in timings.items()}}
    print(result["median_s"])
    save_result("startup", result)


if __name__ == "__main__":
    main()
