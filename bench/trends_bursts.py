"""Planted bursts: is a new complaint flagged in the week it starts, with its own words, and how often is a stream
with nothing planted flagged? Model-free: the labeled category stands for the predicted one.

    python -m bench.trends_bursts --data google_play clap --seeds 10

A set's reviews get synthetic dates spread evenly over ``--weeks`` weeks (a shuffled stream). Each run picks a
category (in turn) and a word held by enough of its reviews; that many of those reviews are held back from the
stream (the others stay: the word keeps its usual rate) and put into 3 consecutive weeks from a random week on,
(multiplier - 1) x the category's weekly volume each week, so the category's count there reaches 1.5x, 2x or 3x its
usual week (a word with fewer reviews than that is drawn again, with replacement, only when no word has enough). Detected: a
flag of that category in those weeks; delay: weeks from the first planted week to the first flag; words: the
planted word among the flag's top phrases. False flags: every flag of the same streams with nothing planted, per
100 category-weeks that were tested (with min_reviews reviews and min_history weeks before).
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
import pandas as pd

from bench.common import CLAP, GOOGLE_PLAY, machine, require, save_result, trend_counts
from review_cls.monitoring.emerging import PHRASE_SEPARATOR, find_emerging
from review_cls.monitoring.phrases import STOP_WORDS, phrases_of

SETS = {"google_play": (GOOGLE_PLAY, "review", "label"), "clap": (CLAP, "review", "category")}
MULTIPLIERS = (1.5, 2.0, 3.0)
BURST_WEEKS = 3
START = pd.Timestamp("2024-01-01")


def load(name: str) -> pd.DataFrame:
    path, text, label = SETS[name]
    frame = pd.read_excel(require(path)) if path.suffix == ".xlsx" else pd.read_csv(require(path), na_values="?")
    frame = frame[[text, label]].dropna().drop_duplicates(text)
    return frame.rename(columns={text: "review", label: "category"}).reset_index(drop=True)


def dated(frame: pd.DataFrame, weeks: int, rng: np.random.Generator) -> pd.DataFrame:
    """The reviews shuffled and spread evenly over ``weeks`` weeks."""
    shuffled = frame.sample(frac=1.0, random_state=int(rng.integers(2**31))).reset_index(drop=True)
    week = np.arange(len(shuffled)) * weeks // len(shuffled)
    days = START + pd.to_timedelta(week * 7 + rng.integers(0, 7, len(shuffled)), unit="D")
    return shuffled.assign(date=days.strftime("%Y-%m-%d"))


def words_of(texts: pd.Series) -> list[set[str]]:
    """Each review's content words (letters only, 4 or more, no stop word: a complaint is about "login", not "not")."""
    return [{p for p in phrases_of(text) if p.isalpha() and len(p) > 3 and p not in STOP_WORDS} for text in texts]


def planted(frame: pd.DataFrame, category: str, multiplier: float, weeks: int,
            rng: np.random.Generator) -> tuple[pd.DataFrame, str, int]:
    """The stream with a complaint about one word of ``category`` planted from a random week on."""
    own = frame[frame["category"] == category]
    per_week = round((multiplier - 1) * len(own) / weeks)
    needed = per_week * BURST_WEEKS
    held = words_of(own["review"])
    document_frequency = Counter(word for words in held for word in words)
    # a word some of whose reviews stay in the stream (its usual rate), else any word of 20 reviews, drawn again
    eligible = sorted(w for w, n in document_frequency.items() if n >= needed + 10) or \
        sorted(w for w, n in document_frequency.items() if n >= 20)
    word = eligible[int(rng.integers(len(eligible)))]
    holders = own.index[[word in words for words in held]]
    picked = rng.choice(holders, needed, replace=len(holders) < needed)
    stream = dated(frame.drop(np.unique(picked)), weeks, rng)
    burst = frame.loc[picked]
    first = int(rng.integers(weeks // 2, weeks - BURST_WEEKS + 1))
    days = START + pd.to_timedelta(np.repeat(np.arange(first, first + BURST_WEEKS), per_week) * 7
                                   + rng.integers(0, 7, len(burst)), unit="D")
    return pd.concat([stream, burst.assign(date=days.strftime("%Y-%m-%d"))], ignore_index=True), word, first


def flags_of(stream: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    counts = trend_counts(stream, stream["category"])
    found = find_emerging(counts).flags
    tested = 0
    settings = counts.settings
    weeks = sorted({window for (axis, window) in counts.totals})
    for (_, category, window), n in counts.reviews.items():
        before = [w for w in weeks if window - settings.history <= w < window]
        tested += n >= settings.min_reviews and len(before) >= settings.min_history
    return found, tested


def week_number(label: str) -> int:
    return (pd.Timestamp(label) - START).days // 7


def run(name: str, seeds: int, weeks: int) -> dict:
    frame = load(name)
    categories = [c for c, n in frame["category"].value_counts().items()
                  if n / weeks >= 20]  # those a week can be tested in (min_reviews)
    rows, false = [], []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        found, tested = flags_of(dated(frame, weeks, rng))
        print(name, "nothing planted:", found[["category", "kind", "window", "phrases"]].to_dict("records"), flush=True)
        false.append({"seed": seed, "flags": len(found), "tested": tested})
        for multiplier in MULTIPLIERS:
            category = categories[(seed + MULTIPLIERS.index(multiplier)) % len(categories)]
            stream, word, first = planted(frame, category, multiplier, weeks, rng)
            found, _ = flags_of(stream)
            mine = found[(found["category"] == category) & (found["by"] == "week")]
            mine = mine[mine["window"].map(week_number).between(first, first + BURST_WEEKS - 1)]
            hit = mine.sort_values("window", kind="stable").head(1)
            words = bool(len(hit)) and any(word in phrase.split() for phrase in
                                           hit.iloc[0]["phrases"].split(PHRASE_SEPARATOR))
            rows.append({"seed": seed, "multiplier": multiplier, "category": category, "word": word,
                         "detected": bool(len(hit)), "delay": week_number(hit.iloc[0]["window"]) - first
                         if len(hit) else None, "words_in_top": words})
            print(name, rows[-1], flush=True)
    runs = pd.DataFrame(rows)
    summary = runs.groupby("multiplier").agg(recall=("detected", "mean"), delay=("delay", "mean"),
                                             words_in_top=("words_in_top", "sum"), detected=("detected", "sum"))
    summary["words_in_top"] = summary["words_in_top"] / summary["detected"].clip(lower=1)
    flagged = sum(f["flags"] for f in false)
    per_100 = 100 * flagged / max(sum(f["tested"] for f in false), 1)
    print(name, summary.to_string(), f"\nfalse flags per 100 category-weeks: {per_100:.2f} ({flagged} flags)")
    return {"runs": rows, "summary": summary.reset_index().to_dict("records"), "false": false,
            "false_per_100": per_100, "categories": categories}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--weeks", type=int, default=30)
    args = parser.parse_args()
    results = {name: run(name, args.seeds, args.weeks) for name in args.data}
    save_result("trends_bursts", {"machine": machine(), "weeks": args.weeks, "seeds": args.seeds, "sets": results})


if __name__ == "__main__":
    main()
