"""Sweep summary: rank a multirun's runs by validation macro-F1 into ``sweep_summary.csv``, ``.md`` and ``.png``, with
each run's blend of the model and its TF-IDF baseline (what predict ships) beside the model's test score.

Reads only files in the sweep folder (each job's ``metrics.json`` and ``.hydra/``, and Optuna's
``optimization_results.yaml``), so it works for any launcher and can be rebuilt by hand:
``python -m review_cls.sweeps.sweep_summary lightning_logs/multiruns/<time>``.
"""

from __future__ import annotations

import math
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from review_cls.utils.atomic import atomic_file
from review_cls.utils.run_folder import FAILED, HYDRA_OVERRIDES, OK, RUN_RECORD, RunFolder

SUMMARY_CSV, SUMMARY_MD, SUMMARY_PNG = "sweep_summary.csv", "sweep_summary.md", "sweep_summary.png"
OPTUNA_RESULTS = "optimization_results.yaml"
VAL_F1, TEST_F1 = "val/f1_macro", "test/f1_macro"
# the blend of the model with its TF-IDF baseline (what predict ships): its test macro-F1 and the model's share
BLEND_SCORES = {"blend_test_f1_macro": "blend/test_f1_macro", "blend_weight": "blend/weight"}
# the validation score of the best (tested) checkpoint; runs recorded without it fall back to the last epoch's
VAL_F1_BEST = f"{VAL_F1}_best"
# a multi-label run's other test scores (column -> metric); blank for single-label runs, left out of the markdown
# table when no run has them
MULTILABEL_SCORES = {"test_f1_micro": "test/f1_micro", "test_f1_samples": "test/f1_samples",
                     "test_hamming": "test/hamming", "test_f1_macro_at_0.5": "test/f1_macro_at_0.5"}
COLUMNS = ["rank", "best", "run", "status", "val_f1_macro", "test_f1_macro", *BLEND_SCORES, "rare_class",
           "rare_class_support",
           "rare_class_test_f1", *MULTILABEL_SCORES, "swept", "overrides", "error", "optimized_metric", "objective"]
NO_RECORD = f"no {RUN_RECORD}: the job died before it finished (killed, out of host memory, time limit)"


def job_dirs(sweep_dir: Path) -> list[Path]:
    """Every job folder of the sweep (Hydra writes ``.hydra/`` before the job starts), in job-number order."""
    found = [path for path in sweep_dir.iterdir()
             if path.is_dir() and ((path / ".hydra").is_dir() or (path / RUN_RECORD).is_file())]
    return sorted(found, key=lambda path: (_job_number(path.name), path.name))


def _job_number(name: str) -> int:
    match = re.match(r"\d+", name)
    return int(match.group()) if match else sys.maxsize


def read_run(job_dir: Path) -> dict:
    """One row of the summary from a job folder; a job without ``metrics.json`` counts as failed."""
    job = RunFolder(job_dir)
    record = job.read(RUN_RECORD)
    if not isinstance(record, dict):
        overrides = job.read(HYDRA_OVERRIDES) or []
        record = {"status": FAILED, "error": NO_RECORD, "overrides": overrides, "metrics": {}, "test_support": {}}
    metrics, support = record.get("metrics", {}), record.get("test_support", {})
    objective = record.get("optimized_metric") or VAL_F1_BEST
    rare_class = min(support, key=lambda label: (support[label], label)) if support else None
    return {
        "run": job_dir.name,
        "status": record.get("status", FAILED),
        "optimized_metric": objective,
        "val_f1_macro": metrics.get(VAL_F1_BEST, metrics.get(VAL_F1, math.nan)),
        "test_f1_macro": metrics.get(TEST_F1, math.nan),
        **{column: metrics.get(metric, math.nan) for column, metric in BLEND_SCORES.items()},
        "rare_class": rare_class,
        "rare_class_support": support.get(rare_class) if rare_class else None,
        "rare_class_test_f1": metrics.get(f"test/f1/{rare_class}", math.nan) if rare_class else math.nan,
        **{column: metrics.get(metric, math.nan) for column, metric in MULTILABEL_SCORES.items()},
        "overrides": " ".join(record.get("overrides", [])),
        "error": record.get("error") or "",
        "objective": metrics.get(objective, math.nan),
    }


def summary_frame(sweep_dir: Path, maximize: bool = True) -> pd.DataFrame:
    """All runs, ranked: finished runs by their optimised metric, best first, then failed ones."""
    rows = [read_run(path) for path in job_dirs(sweep_dir)]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["finished"] = frame["status"].eq(OK) & frame["objective"].notna()
    frame = frame.sort_values(["finished", "objective"], ascending=[False, not maximize], kind="stable")
    frame = frame.reset_index(drop=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    frame["best"] = False
    if frame["finished"].any():
        frame.loc[0, "best"] = True
    frame["swept"] = varying_overrides(frame["overrides"])
    frame["rare_class_support"] = frame["rare_class_support"].astype("Int64")
    return frame[COLUMNS]


def varying_overrides(overrides: pd.Series) -> list[str]:
    """Per run, only the overrides whose value differs between runs: what the sweep actually changed."""
    parsed = [dict(item.split("=", 1) for item in text.split() if "=" in item) for text in overrides]
    keys = sorted({key for run in parsed for key in run})
    varying = [key for key in keys if len({run.get(key) for run in parsed}) > 1] or keys
    return [" ".join(f"{key}={_short_number(run[key])}" for key in varying if key in run) for run in parsed]


def _short_number(value: str) -> str:
    """Optuna's ``3.071057367777371e-05`` as ``3.071e-05``; anything that is not a float stays as it is."""
    try:
        number = float(value)
    except ValueError:
        return value
    return value if number.is_integer() else f"{number:.4g}"


def markdown_table(frame: pd.DataFrame, optuna: dict | None) -> str:
    """The ranked table a researcher reads first, with the Optuna best trial when there is one."""
    metric = frame["optimized_metric"].iloc[0]
    failed = int((frame["status"] != OK).sum())
    multilabel = [column for column in MULTILABEL_SCORES if frame[column].notna().any()]
    blended = bool(frame["blend_test_f1_macro"].notna().any())
    lines = [
        f"# Sweep summary: {len(frame)} run(s), {failed} failed, ranked by {metric}",
        "",
        "| rank | run | status | val macro-F1 (best epoch) | test macro-F1 | "
        + ("blend test macro-F1 (model share) | " if blended else "") + "rarest class (test n) "
        "| rarest-class test F1 | " + "".join(f"{column.replace('_', ' ')} | " for column in multilabel)
        + "overrides | error |",
        "|---:|---|---|---:|---:|" + ("---:|" if blended else "") + "---|---:|" + "---:|" * len(multilabel) + "---|---|",
    ]
    for row in frame.to_dict("records"):
        rank = f"**{row['rank']} (best)**" if row["best"] else str(row["rank"])
        rare = f"{row['rare_class']} ({row['rare_class_support']})" if isinstance(row["rare_class"], str) else ""
        blend = [f"{_fmt(row['blend_test_f1_macro'])} ({row['blend_weight']:.2f})"
                 if not math.isnan(row["blend_test_f1_macro"]) else ""] if blended else []
        cells = [rank, row["run"], row["status"], _fmt(row["val_f1_macro"]), _fmt(row["test_f1_macro"]), *blend, rare,
                 _fmt(row["rare_class_test_f1"]), *(_fmt(row[column]) for column in multilabel),
                 f"`{row['swept']}`" if row["swept"] else "", _short(row["error"])]
        lines.append("| " + " | ".join(cells) + " |")
    if optuna:
        lines += ["", f"Optuna best trial: value {_fmt(optuna.get('best_value'))}, "
                      f"params `{optuna.get('best_params')}` (from `{OPTUNA_RESULTS}`)."]
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def _short(error: str, limit: int = 160) -> str:
    text = " ".join(error.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plot_summary(frame: pd.DataFrame, path: Path, title: str) -> None:
    """Val and test macro-F1 per run as dots on one axis, best run on top, failed runs labelled as such."""
    from review_cls.reports.figures import new_figure, save_png

    labels = [_plot_label(row) for row in frame.itertuples(index=False)]
    lines_per_run = max(label.count("\n") + 1 for label in labels)
    positions = list(range(len(frame)))[::-1]
    fig = new_figure(12, 1.8 + (0.3 + 0.2 * lines_per_run) * len(frame))
    ax = fig.add_subplot()
    ax.scatter(frame["val_f1_macro"], positions, marker="o", s=70, color="tab:blue",
               label="validation macro-F1 (best epoch)", zorder=3)
    ax.scatter(frame["test_f1_macro"], positions, marker="D", s=55, color="tab:orange", label="test macro-F1", zorder=3)
    for y, row in zip(positions, frame.itertuples(index=False)):
        if row.status != OK:
            ax.text(0.01, y, f"failed: {_short(row.error, 70)}", va="center", color="tab:red", fontsize=9)
            continue
        for value, color, offset in ((row.val_f1_macro, "tab:blue", 7), (row.test_f1_macro, "tab:orange", -13)):
            if not math.isnan(value):
                ax.annotate(f"{value:.3f}", (value, y), xytext=(0, offset), textcoords="offset points",
                            ha="center", fontsize=8, color=color)
    ax.set_yticks(positions, labels, fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, len(frame) - 0.3)
    ax.set_xlabel("macro-F1")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title, fontsize=11, loc="left")
    fig.legend(loc="outside upper right", ncol=2, fontsize=9)
    save_png(fig, path)


def _plot_label(row: Any) -> str:
    """``#rank run`` over the swept overrides, wrapped so a 6-parameter Optuna trial stays readable."""
    head = f"#{row.rank}{' (best)' if row.best else ''} {row.run}"
    return head + ("\n" + textwrap.fill(_short(row.swept, 240), 60) if row.swept else "")


def write_sweep_summary(sweep_dir: str | Path, maximize: bool = True) -> pd.DataFrame:
    """Write ``sweep_summary.csv``, ``.md`` and ``.png`` into ``sweep_dir``; returns the ranked table."""
    sweep_dir = Path(sweep_dir)
    frame = summary_frame(sweep_dir, maximize)
    if frame.empty:
        return frame
    results_file = sweep_dir / OPTUNA_RESULTS
    optuna = yaml.safe_load(results_file.read_text()) if results_file.is_file() else None
    with atomic_file(sweep_dir / SUMMARY_CSV) as temporary:
        frame.drop(columns=["objective"]).to_csv(temporary, index=False)
    with atomic_file(sweep_dir / SUMMARY_MD) as temporary:
        temporary.write_text(markdown_table(frame, optuna))
    title = f"{sweep_dir.name}: macro-F1 per run, ranked by {frame['optimized_metric'][0]}"
    plot_summary(frame, sweep_dir / SUMMARY_PNG, title)
    return frame


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        table = write_sweep_summary(folder)
        print(f"{folder}: no job folders" if table.empty else (Path(folder) / SUMMARY_MD).read_text())
