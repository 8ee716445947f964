"""Start-up: seconds from launching ``python -m review_cls.train`` to its first training step.

A callback (added with a Hydra override, nothing in the project changes) prints wall-clock stamps when
``trainer.fit`` starts (data read, split, tokenized; model built) and when the first training batch starts; the run
stops after one step. Also timed: ``python -m review_cls.train --help`` (Hydra start-up and the entry module's
imports: the heavy ones are deferred to inside ``main``) and ``import review_cls.jobs.train`` (torch, Lightning,
transformers).

    nice -n 10 python -m bench.startup --repeats 3
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import lightning as L

from bench.common import machine, median, save_result

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default="demo")
    args = parser.parse_args()
    result = {"machine": machine(), "args": vars(args), "help": [], "import_training": [], "to_fit_start": [],
              "to_first_step": []}
    for _ in range(args.repeats):
        started = time.time()
        subprocess.run([sys.executable, "-m", "review_cls.train", "--help"], capture_output=True, check=True)
        result["help"].append(time.time() - started)
        started = time.time()
        subprocess.run([sys.executable, "-c", "import review_cls.jobs.train"], capture_output=True, check=True)
        result["import_training"].append(time.time() - started)
        for name, value in first_step(args.data).items():
            result[name].append(value)
        save_result("startup", result)
    result["median_s"] = {name: median(result[name]) for name in ("help", "import_training", "to_fit_start",
                                                                  "to_first_step")}
    print(result["median_s"])
    save_result("startup", result)


if __name__ == "__main__":
    main()
