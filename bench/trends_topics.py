"""The topics inside each category on real reviews: how coherent are they, and do they read well? Google Play (4
labels) and CLAP (7), each labeled category clustered as predict clusters a predicted one.

    python -m bench.trends_topics [--data google_play clap] [--bertopic-path DIR]

Sentence vectors: the packaged all-MiniLM-L6-v2 encoder, mean-pooled (the function predict uses on a trained model's
encoder; a model fine-tuned on these labels was not trained for this page), against TF-IDF vectors (what topics
use without a model or under runtime=onnx). Coherence: NPMI of each topic's words over all of the category's
reviews, averaged over its topics (0: the words are independent; higher: they come together). ``--bertopic-path``:
a folder holding BERTopic and the packages it adds (pip install --target DIR bertopic), whose import time is
measured beside the topics module's (median of 3 fresh interpreters).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import pandas as pd
from transformers import AutoModel, AutoTokenizer

from bench.common import CLAP, GOOGLE_PLAY, MINILM, machine, require, save_result
from review_cls.models.pretrained import resolve_pretrained
from review_cls.monitoring.embeddings import mean_pooled
from review_cls.monitoring.phrases import phrases_of
from review_cls.monitoring.topics import category_topics, npmi, tfidf_vectors

SETS = {"google_play": (GOOGLE_PLAY, "label"), "clap": (CLAP, "category")}
TOPIC_DEFAULTS = {"wanted": None, "max_topics": 8, "min_size": 10, "words": 6, "examples": 2}
SAMPLE = 2000


def load(name: str) -> pd.DataFrame:
    path, label = SETS[name]
    frame = pd.read_excel(require(path)) if path.suffix == ".xlsx" else pd.read_csv(require(path), na_values="?")
    return frame[["review", label]].dropna().drop_duplicates("review").rename(columns={label: "category"})


def topics_of(frame: pd.DataFrame, embed) -> pd.DataFrame:
    tables = []
    for category, group in frame.groupby("category"):
        texts = group["review"].astype(str).sample(min(len(group), SAMPLE), random_state=0).tolist()
        table = category_topics(texts, embed(texts), str(category), len(group), **TOPIC_DEFAULTS)
        documents = [set(phrases_of(text)) for text in texts]
        table["npmi_category"] = [npmi(words.split("; "), documents) for words in table["words"]]
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def import_seconds(module: str, path: str | None) -> float:
    env = {**os.environ, **({"PYTHONPATH": path} if path else {})}
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--bertopic-path")
    args = parser.parse_args()
    folder = resolve_pretrained(MINILM)
    encoder, tokenizer = AutoModel.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)
    vectorizers = {"minilm": lambda texts: mean_pooled(encoder, tokenizer, texts, max_length=128),
                   "tfidf": tfidf_vectors}
    result = {"machine": machine(), "sets": {}}
    for name in args.data:
        frame = load(name)
        per_set = {}
        for vectors, embed in vectorizers.items():
            table = topics_of(frame, embed)
            summary = table.groupby("category").agg(topics=("topic", "size"), npmi=("npmi_category", "mean"))
            print(f"{name} {vectors}\n{summary.round(3).to_string()}\nmean NPMI {summary['npmi'].mean():.3f}")
            largest = frame["category"].value_counts().index[0]
            top = table[table["category"] == largest].head(3)
            print(top[["topic", "share", "words", "npmi_category", "examples"]].to_string(index=False))
            per_set[vectors] = {"per_category": summary.reset_index().to_dict("records"),
                                "mean_npmi": float(summary["npmi"].mean()),
                                "largest": top.to_dict("records")}
        result["sets"][name] = per_set
    if args.bertopic_path:
        result["imports"] = {"review_cls.monitoring.topics": import_seconds("review_cls.monitoring.topics", None),
                             "bertopic": import_seconds("bertopic", args.bertopic_path)}
        print(result["imports"])
    save_result("trends_topics", result)


if __name__ == "__main__":
    main()
