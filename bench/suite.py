"""One recipe over every labeled review set in ../shared/data, a few seeds each, beside TF-IDF on the same split.

Each (set, seed) is one ``python -m review_cls.train`` subprocess; its test macro-F1 and its own TF-IDF baseline
(fitted on the same split) come from the run's ``metrics.json``. Sets under ``--small`` reviews draw a new split per
seed (``seed=N``); larger ones keep one split (``data.seed=42``) and vary the training seed only. Every finished run
appends one JSON line to ``--out``, so a rerun resumes where it stopped; ``--shard i/n`` takes every n-th run, so
several processes (one thread each) can share the work.

    OMP_NUM_THREADS=1 python -m bench.suite --recipe english --seeds 0 1 2 --out bench/results/suite_english.jsonl
    OMP_NUM_THREADS=1 python -m bench.suite --recipe chinese --sets shopping_zh_8k hotel_zh --seeds 42 0 1 \\
        --out bench/results/suite_chinese.jsonl --shard 1/2
    python -m bench.suite --summarize bench/results/suite_english.jsonl bench/results/suite_chinese.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench.common import CLAP, GOOGLE_PLAY_9TO1, google_play_9to1_file, require, sample_file, sample_path
from bench.hybrid import hybrid_scores
from bench.multilabel_sets import multilabel_file, multilabel_path

SHARED = Path("../shared/data")
MULTILABEL = ["data=file", "data.text_column=review", "data.label_column=category", "data.label_separator='|'"]
# name -> (data overrides, rows): a set added to ../shared/data gets a line here
SETS: dict[str, tuple[list[str], int]] = {
    "google_play": (["data=google_play"], 4000),
    # Google Play with "user experience" cut to 150 reviews (9.4:1): above the adaptive class weights' 4:1
    "google_play_9to1": (["data=google_play", f"data.path={GOOGLE_PLAY_9TO1}"], 3557),
    "clap": (["data=file", f"data.path={CLAP}", "data.text_column=review", "data.label_column=category"], 3000),
    "shopping_zh_8k": (["data=shopping_zh", f"data.path={sample_path(8000)}"], 8000),
    "hotel_zh": (["data=file", f"data.path={SHARED}/chnsenticorp_htl/ChnSentiCorp_htl_all.csv",
                  "data.text_column=review", "data.label_column=label"], 7766),
    # multi-label: two-category reviews joined into one text (bench/multilabel_sets.py), TF-IDF one-vs-rest
    "google_play_ml": ([*MULTILABEL, f"data.path={multilabel_path('google_play')}"], 3200),
    "clap_ml": ([*MULTILABEL, f"data.path={multilabel_path('clap')}"], 2500),
}
# the sets whose file a benchmark writes (a seeded sample, a multi-label version), built before their first run
BUILT_FILES = {"shopping_zh_8k": lambda: sample_file(8000), "google_play_9to1": google_play_9to1_file,
               "google_play_ml": lambda: multilabel_file("google_play"), "clap_ml": lambda: multilabel_file("clap")}
# a recipe is the overrides a user types; the English and Chinese defaults are the empty recipe of each language
RAW_WEIGHTS = "callbacks.ema=null"  # the raw weights, not the moving average the English default ships
# the schedule the rows below were measured on: 8 epochs, early stopping from the first (the default: 12, from the 8th)
EIGHT_EPOCHS = ["trainer.max_epochs=8", "trainer.min_epochs=1"]
RECIPES: dict[str, list[str]] = {
    "english": [],
    # the English default on its former 8-epoch schedule (the linear decay ends at the 8th epoch)
    "english_8": EIGHT_EPOCHS,
    # the English default with early stopping from the first epoch, not the 8th
    "english_stop_1": ["trainer.min_epochs=1"],
    # the English default before the moving average: the raw weights validated, saved and tested
    "english_raw": [RAW_WEIGHTS, *EIGHT_EPOCHS],
    "english_ce": ["model.alpha=null", RAW_WEIGHTS, *EIGHT_EPOCHS],
    "english_balanced": ["model.alpha=effective:0.999", RAW_WEIGHTS, *EIGHT_EPOCHS],
    # the English sets read by the multilingual encoder (its pruned vocab, every weight trained) instead of MiniLM
    "english_e5": ["model=e5_small", "trainer.max_epochs=4", RAW_WEIGHTS],
    "chinese": ["+experiment=chinese"],
    # the Chinese default with the moving average the English default has
    "chinese_ema": ["+experiment=chinese",
                    "callbacks.ema={_target_:review_cls.training.callbacks.EMAWeights,decay:0.99}"],
    "char_bert": ["+experiment=char_bert"],
    # the multi-label rows of docs/multilabel.md, measured on the raw weights and 8 epochs
    "multilabel": [RAW_WEIGHTS, *EIGHT_EPOCHS],
    "multilabel_bce": ["model.alpha=null", RAW_WEIGHTS, *EIGHT_EPOCHS],
    # the same single-label data read as multi-label (a sigmoid per label): the cost of the mode itself
    "char_bert_multilabel": ["+experiment=char_bert", "data.task=multilabel", "data.label_separator='|'"],
    "multilabel_asymmetric": ["model.asymmetric_loss={gamma_neg:4,gamma_pos:0,clip:0.05}", "model.alpha=null",
                              RAW_WEIGHTS, *EIGHT_EPOCHS],
}
SINGLE_LABEL_SETS = ("google_play", "google_play_9to1", "clap", "shopping_zh_8k", "hotel_zh")
LANGUAGE_SETS = {"english": ["google_play", "clap"], "chinese": ["shopping_zh_8k", "hotel_zh"],
                 "multilabel": ["google_play_ml", "clap_ml"]}


def run_one(recipe: str, name: str, seed: int, runs: Path, small: int, extra: list[str]) -> dict:
    overrides, rows = SETS[name]
    seeding = [f"seed={seed}"] if rows < small else [f"seed={seed}", "data.seed=42"]
    log_dir = runs / recipe / name / str(seed)
    command = [sys.executable, "-m", "review_cls.train", *overrides, *RECIPES[recipe], *seeding,
               f"paths.log_dir={log_dir}", "callbacks.progress_bar=null", *extra]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        return {"recipe": recipe, "set": name, "seed": seed, "error": completed.stderr[-2000:]}
    metrics = json.loads(max(log_dir.rglob("metrics.json"), key=lambda p: p.stat().st_mtime).read_text())["metrics"]
    return {"recipe": recipe, "set": name, "seed": seed, "test": metrics["test/f1_macro"],
            "val": metrics.get("val/f1_macro_best"), "tfidf": metrics.get("baseline/test_f1_macro"),
            "overrides": command[3:]}


def hybrid_score(row: dict, runs: Path) -> float | None:
    """Test macro-F1 of the run's probabilities averaged 50/50 with its TF-IDF baseline's (bench/hybrid.py), read
    from the run folder under ``runs``; None for multi-label runs or a folder no longer there."""
    folders = list((runs / row["recipe"] / row["set"] / str(row["seed"])).rglob("metrics.json"))
    if not folders or row["set"] not in SINGLE_LABEL_SETS:
        return None
    return hybrid_scores(max(folders, key=lambda p: p.stat().st_mtime).parent)["hybrid"]


def summarize(files: list[Path], runs: Path | None = None) -> str:
    """Per recipe and set: mean ± std of the model, TF-IDF, the gap; then the mean gap and the worst set. Given the
    ``runs`` folder, also the model + TF-IDF probability average (single-label sets; not a model row)."""
    rows = [json.loads(line) for file in files for line in file.read_text().splitlines() if line.strip()]
    rows = [row for row in rows if "test" in row]
    lines = ["| recipe | set | seeds | model test macro-F1 | TF-IDF | gap (points) | model + TF-IDF average |",
             "|---|---|---|---|---|---|---|"]
    for recipe in sorted({row["recipe"] for row in rows}):
        gaps = {}
        for name in sorted({row["set"] for row in rows if row["recipe"] == recipe}):
            done = [row for row in rows if row["recipe"] == recipe and row["set"] == name]
            model, tfidf = [row["test"] for row in done], [row["tfidf"] for row in done]
            gaps[name] = 100 * (statistics.mean(model) - statistics.mean(tfidf))
            spread = f" ± {statistics.stdev(model):.3f}" if len(model) > 1 else ""
            hybrids = [score for row in done if (score := hybrid_score(row, runs) if runs else None) is not None]
            hybrid = f"{statistics.mean(hybrids):.3f} ({len(hybrids)})" if hybrids else ""
            lines.append(f"| {recipe} | {name} | {len(done)} | {statistics.mean(model):.3f}{spread} | "
                         f"{statistics.mean(tfidf):.3f} | {gaps[name]:+.1f} | {hybrid} |")
        worst = min(gaps, key=gaps.get)
        lines.append(f"| {recipe} | mean / worst set | | | | {statistics.mean(gaps.values()):+.1f} / "
                     f"{gaps[worst]:+.1f} ({worst}) | |")
    return "\n".join(lines)


def finished(out: Path, recipe: str) -> set[tuple[str, int]]:
    """The (set, seed) pairs of ``recipe`` with a result in ``out``."""
    if not out.exists():
        return set()
    rows = map(json.loads, out.read_text().splitlines())
    return {(row["set"], row["seed"]) for row in rows if row["recipe"] == recipe and "test" in row}


def shard(text: str) -> tuple[int, int]:
    """``--shard i/n``: this process takes every n-th run from the i-th, 1 <= i <= n."""
    parts = text.split("/")
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not i/n, e.g. 1/2 (this process runs every 2nd run, from the 1st)")
    index, count = map(int, parts)
    if count < 1 or not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"{text!r}: i/n needs n >= 1 and i from 1 to n (e.g. 1/2 and 2/2)")
    return index, count


def existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"'{text}' is not a file (working directory: {Path.cwd()})")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", choices=sorted(RECIPES))
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 0, 1])
    parser.add_argument("--small", type=int, default=5000, help="sets with fewer rows draw a split per seed")
    parser.add_argument("--shard", type=shard, default=(1, 1),
                        help="i/n: this process runs every n-th (set, seed), from i")
    parser.add_argument("--runs", type=Path, default=Path("bench/results/suite_runs"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/suite.jsonl"))
    parser.add_argument("--summarize", nargs="+", type=existing_file, metavar="JSONL")
    args, extra = parser.parse_known_args(argv)
    if args.summarize:
        print(summarize(args.summarize, args.runs))
        return
    if not args.recipe:
        parser.error("--recipe is required (or --summarize)")
    require(SHARED)
    names = args.sets or LANGUAGE_SETS.get(args.recipe.split("_")[0], sorted(SETS))
    for name in names:
        if name in BUILT_FILES:
            BUILT_FILES[name]()
    index, count = args.shard
    # seed-major: a partial suite still covers every set
    runs = [(name, seed) for seed in args.seeds for name in names]
    plan = runs[index - 1 :: count]
    if not plan:
        parser.error(f"--shard {index}/{count} takes no run: there are {len(runs)} (set, seed) pair(s)")
    failed = 0
    for name, seed in plan:
        if (name, seed) in finished(args.out, args.recipe):  # read again each time: other processes append too
            continue
        result = run_one(args.recipe, name, seed, args.runs, args.small, extra)
        failed += "error" in result
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a") as out:
            out.write(json.dumps(result) + "\n")
        print(json.dumps({key: value for key, value in result.items() if key != "overrides"}), flush=True)
    if failed:
        raise SystemExit(f"{failed} of {len(plan)} run(s) failed; their errors are in {args.out}.")


if __name__ == "__main__":
    main()
