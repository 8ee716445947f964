"""Label cleanup: audit a shared set's training split, then drop or relabel what the audit flags and refit.

The training split of a training run with the seed (test split untouched, never audited) is written out and run
through ``python -m review_cls.audit`` (TF-IDF folds); the flagged reviews are then removed from the training split,
or relabeled with the audit's suggestion, and the TF-IDF baseline (conf/tfidf/default.yaml) is refitted on each
version and scored on the same test split. Also writes the 50 worst-ranked flagged reviews as a markdown table for a
reader to judge.

    python -m bench.label_cleanup --data google_play --seeds 0 1 2
"""

from __future__ import annotations

import argparse

import pandas as pd

from bench.common import (
    GOOGLE_PLAY,
    RESULTS,
    clean_splits,
    fit_tfidf,
    machine,
    macro_f1_on,
    mean_std,
    run_review_cls,
    save_result,
)

DATA = {"google_play": (GOOGLE_PLAY, "review", "label")}
WORK = RESULTS / "label_cleanup_work"


def tfidf_test_f1(texts: list[str], labels: list[str], test, names: list[str], seed: int) -> float:
    pipeline = fit_tfidf(texts, [names.index(label) for label in labels], seed)
    return macro_f1_on(pipeline, test, names)


def run_seed(data: str, seed: int) -> tuple[dict, pd.DataFrame]:
    path, text_column, label_column = DATA[data]
    splits, names = clean_splits(path, text_column, label_column, seed)
    train, test = splits["train"], splits["test"]
    folder = WORK / f"{data}_{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / "train.csv"
    pd.DataFrame({"review": train.texts, "label": train.labels}).to_csv(table, index=False)
    run_review_cls("audit", "data=file", f"data.path={table}", "data.text_column=review", "data.label_column=label",
                   f"hydra.run.dir={folder / 'audit'}", f"seed={seed}", "data.task=single")
    issues = pd.read_csv(folder / "audit" / "label_issues.csv")
    flagged = set(issues["text"])
    suggestion = dict(zip(issues["text"], issues["suggested_label"]))
    kept = [(text, label) for text, label in zip(train.texts, train.labels) if text not in flagged]
    relabeled = [suggestion.get(text, label) for text, label in zip(train.texts, train.labels)]
    scores = {
        "flagged": len(issues), "train": len(train),
        "as_labeled": tfidf_test_f1(train.texts, train.labels, test, names, seed),
        "flagged_removed": tfidf_test_f1([t for t, _ in kept], [label for _, label in kept], test, names, seed),
        "flagged_relabeled": tfidf_test_f1(train.texts, relabeled, test, names, seed),
    }
    return scores, issues


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=sorted(DATA), default="google_play")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    results = {}
    for seed in args.seeds:
        results[seed], issues = run_seed(args.data, seed)
        print(seed, results[seed], flush=True)
        if seed == args.seeds[0]:
            top = issues.head(50)[["text", "given_label", "suggested_label", "self_confidence"]]
            rows = [f"| {i + 1} | {str(row.text)[:110].replace('|', '/')} | {row.given_label} | {row.suggested_label} "
                    f"| {row.self_confidence:.3f} |" for i, row in enumerate(top.itertuples())]
            markdown = "\n".join(["| # | review | given | suggested | self-confidence |", "|---|---|---|---|---|", *rows])
            (RESULTS / f"label_cleanup_{args.data}_top50.md").write_text(markdown + "\n", encoding="utf-8")
    summary = {name: mean_std([results[seed][name] for seed in args.seeds])
               for name in ("flagged", "as_labeled", "flagged_removed", "flagged_relabeled")}
    print({name: f"{value['mean']:.3f} ± {value['std']:.3f}" for name, value in summary.items()})
    save_result(f"label_cleanup_{args.data}", {"machine": machine(), "args": vars(args),
                                               "per_seed": results, "summary": summary})


if __name__ == "__main__":
    main()
