"""Temperature scaling and post-hoc logit adjustment on finished training runs (no retraining).

For each run folder (a ``review_cls.train`` output with ``.hydra/config.yaml``, ``split.json`` and a best checkpoint)
the same split is rebuilt, a copy of the best checkpoint is calibrated on validation with
``review_cls.training.calibration`` (the step every new training run does itself), and the test numbers before and after
are printed and appended to ``--out``. The run's own checkpoint is never modified.

    OMP_NUM_THREADS=1 python -m bench.calibrate_runs <run folder> --logit-adjustment
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from omegaconf import OmegaConf, open_dict

from bench.common import RESULTS


def calibrate_run(run_dir: Path, logit_adjustment: bool, work: Path) -> dict:
    from review_cls.data.datamodule import ReviewDataModule
    from review_cls.training.calibration import calibrate_best_checkpoint
    from review_cls.inference.checkpoints import load_classifier

    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    # data settings added since the run was made take today's defaults (conf/data/demo.yaml holds every key)
    cfg.data = OmegaConf.merge(OmegaConf.load(Path("conf/data/demo.yaml")), cfg.data)
    best = next((run_dir / "checkpoints").glob("best*.ckpt"))
    out_dir = work / run_dir.name
    out_dir.mkdir(parents=True, exist_ok=True)
    copy = shutil.copy(best, out_dir / best.name)
    model, tokenizer = load_classifier(copy)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
        cfg.data.split_file = str(run_dir / "split.json")
        cfg.data.output_dir = None
        cfg.data.tokenizer = None
    datamodule = ReviewDataModule.from_config(cfg.data, tokenizer=tokenizer)
    datamodule.setup("test")
    settings = OmegaConf.create({"temperature": True, "logit_adjustment": logit_adjustment})
    metrics = calibrate_best_checkpoint(settings, model, datamodule, str(copy), str(out_dir))
    Path(copy).unlink()  # a MiniLM checkpoint is ~90 MB; the numbers and the PNG are what is kept
    return {"run_dir": str(run_dir), "checkpoint": best.name, "logit_adjustment": logit_adjustment, "metrics": metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--logit-adjustment", action="store_true", help="also choose tau on validation")
    parser.add_argument("--work", type=Path, default=RESULTS / "calibration")
    parser.add_argument("--out", type=Path, default=RESULTS / "calibration.jsonl")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for run_dir in args.runs:
        row = calibrate_run(run_dir, args.logit_adjustment, args.work)
        with args.out.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
        print(json.dumps(row, indent=1), flush=True)


if __name__ == "__main__":
    main()
