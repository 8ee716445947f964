"""IDEA's protocol on a real stream (YouTube for iOS, 5,000 App Store reviews, 33 versions): the issues flagged for
version v are checked against the release notes that came after it (what the developers then changed).

    python -m bench.trends_idea [--write-keyterms]

Key terms of a release note (written once to bench/idea_youtube_keyterms.csv by ``--write-keyterms``; the rule
below, no hand edits): each numbered item of the note is one change, its key words its words, lower-cased, without
stop words, generic release-note words (GENERIC) and words of two letters or fewer. A note with none ("Bug fixes and
stability improvements") has nothing to check against.

Matching a word of a flag's phrases (stop words left out) with a key word of a change: the two reduce to the same
``stem``, or (``--cosine``, 0.6 unless set) their all-MiniLM-L6-v2 word vectors (the packaged encoder, mean-pooled,
one word a text) have a cosine of at least 0.6. 0.6 is IDEA's own threshold on its word2vec similarity; for MiniLM it
was fixed before any score was computed, from the vectors alone: 0.09% of random pairs of the stream's 2,000
commonest content words reach it (0.5: 0.35%, 0.7: 0.03%), while inflections reach 0.8-0.92 (crash/crashing,
reply/replies) and related words 0.6-0.65 (comment/reply, login/account). A flag is mentioned when one of its words
matches a key word of one of the changes; a change is covered when one of its key words matches a word.

Two protocols, both reported:
- ``idea``: IDEA's evaluation as its published code computes it (armor-ai/IDEA, src/main.py ``validation``):
  versions with more than 50 reviews (IDEA's own cut); the changes of the next two release notes after v (IDEA merges
  a version's changelog with the following one); Precision_E(v) = mentioned flags / flags, over the versions with a
  flag; Recall_L(v) = covered changes / changes; each averaged over the versions (macro) and F_hybrid their harmonic
  mean. In IDEA, Recall_L is the recall of *topic labeling*: the labels of all of a version's topics (12 topics x 3
  phrases), emerging or not. Reported both ways: Recall_L of the version's flags (as docs read it), and of the labels
  of the version's topics, found by the product's topic finder on the version's reviews (TF-IDF vectors and the
  defaults of conf/trends/default.yaml, every topic's words).
- ``strict``: the next release note only, lexical matching only (same stem), pooled over the versions that were
  tested (trends.min_reviews reviews and history), Recall_L of the flags.
Sensitivity: the ``idea`` protocol with cosine 0.5, 0.7, 0.8 and with the same stem only.
Also: the incident's first flagged week (by week, same run).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import IDEA_YOUTUBE, MINILM, machine, require, save_result, trend_counts
from review_cls.monitoring.emerging import PHRASE_SEPARATOR, Window, find_emerging, timeline
from review_cls.monitoring.phrases import STOP_WORDS
from review_cls.monitoring.topics import category_topics, tfidf_vectors
from review_cls.monitoring.windows import version_key

KEYTERMS = Path("bench/idea_youtube_keyterms.csv")
ALL_REVIEWS = "all reviews"
GENERIC = {"bug", "bugs", "fix", "fixes", "fixed", "stability", "improvements", "improvement", "issue", "issues",
           "resolved", "new", "now", "added", "better", "support", "easier", "easily", "made", "make", "users", "user",
           "app", "youtube", "release", "following", "tap", "experience", "prefer", "previously", "available", "get",
           "uncommon", "caused", "causing", "prevented", "instead", "effort", "titles", "feeling", "way", "try",
           "hitting", "love", "ever", "trouble", "lets", "know", "will", "partially", "correct", "look", "able"}
WORD = re.compile(r"[a-z]+")
INCIDENT = "something go wrong|tap to retry"
ITEM = re.compile(r"\(\d+\)|\n")
CHANGE_SEPARATOR = " | "
# IDEA evaluates the versions with more than this many reviews
IDEA_MIN_REVIEWS = 50
COSINE = 0.6
SENSITIVITY = (0.5, 0.7, 0.8, None)
# phrases per flag of the yardsticks (trends.phrases' default)
PHRASES = 5
YARDSTICKS = {"no test, 1 issue": (1, None), "no test, 3 issues": (3, None), "log-odds z >= 1.96, 3 issues": (3, 1.96)}


@dataclass(frozen=True)
class Protocol:
    """Which versions count, how many release notes after a version hold its changes, how scores are averaged."""

    name: str
    notes_ahead: int
    min_reviews: int | None  # None: the versions the run tested
    pooled: bool


IDEA = Protocol("idea", notes_ahead=2, min_reviews=IDEA_MIN_REVIEWS, pooled=False)
STRICT = Protocol("strict", notes_ahead=1, min_reviews=None, pooled=True)


def stem(word: str) -> str:
    """A crude suffix stripper that meets the publishers' lemmatised reviews halfway: crashes, crashed, crashing ->
    crash; videos -> video; replies -> repl (and reply -> repl)."""
    for suffix, keep in (("ies", 1), ("y", 1), ("ing", 3), ("ed", 3), ("es", 3), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep + 2:
            return word[: -len(suffix)]
    return word


def key_words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if len(w) > 2 and w not in STOP_WORDS and w not in GENERIC}


def phrase_words(phrases: str) -> set[str]:
    """The words of a flag's or a topic's phrases ("; "-joined), stop words left out."""
    return {w for w in WORD.findall(phrases.lower()) if len(w) > 2 and w not in STOP_WORDS}


def changes(note: str) -> list[str]:
    """The key words of each numbered item of a release note ("(1) ... (2) ..."), space-joined per item."""
    items = (key_words(item) for item in ITEM.split(note))
    return [" ".join(sorted(words)) for words in items if words]


def write_keyterms() -> None:
    notes = pd.read_csv(require(IDEA_YOUTUBE / "youtube_ios_changelog.csv"), dtype=str)
    notes["key_words"] = [CHANGE_SEPARATOR.join(changes(text)) for text in notes["changelog"]]
    notes[["version", "release_date", "key_words"]].to_csv(KEYTERMS, index=False)
    print(f"wrote {KEYTERMS}")


def release_notes() -> list[tuple[str, list[frozenset[str]]]]:
    """Every release note in version order, with the key words of each of its changes."""
    notes = pd.read_csv(KEYTERMS, dtype=str, keep_default_na=False)
    ordered = sorted(zip(notes["version"], notes["key_words"]), key=lambda item: version_key(item[0]))
    return [(version, [frozenset(change.split()) for change in words.split(CHANGE_SEPARATOR) if change])
            for version, words in ordered]


def next_changes(version: str, notes: list[tuple[str, list[frozenset[str]]]], ahead: int) -> list[frozenset[str]]:
    """The changes of the ``ahead`` release notes after ``version``, a change listed twice counted once."""
    later = [items for note, items in notes if version_key(note) > version_key(version)][:ahead]
    return list(dict.fromkeys(item for items in later for item in items))


class Matcher:
    """Whether a word of the flags meets a key word: the same stem, or MiniLM word vectors at least ``cosine``
    apart (None: the same stem only)."""

    def __init__(self, words: set[str]) -> None:
        from transformers import AutoModel, AutoTokenizer

        from review_cls.models.pretrained import resolve_pretrained
        from review_cls.monitoring.embeddings import mean_pooled

        folder = resolve_pretrained(MINILM)
        ordered = sorted(words)
        vectors = mean_pooled(AutoModel.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder),
                              ordered, max_length=16)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors = dict(zip(ordered, vectors))

    def pairs(self, words: set[str], keys: frozenset[str], cosine: float | None) -> list[str]:
        """The (word, key word) pairs that meet, as "word~key"."""
        return [f"{w}~{k}" for w in sorted(words) for k in sorted(keys)
                if stem(w) == stem(k) or (cosine is not None and float(self.vectors[w] @ self.vectors[k]) >= cosine)]

    def meets(self, words: set[str], keys: frozenset[str], cosine: float | None) -> bool:
        return bool(self.pairs(words, keys, cosine))


def version_topics(reviews: pd.DataFrame, versions: list[str], settings) -> dict[str, set[str]]:
    """The words of every topic the product's topic finder gives each version's reviews (TF-IDF vectors)."""
    found = {}
    for version in versions:
        texts = reviews.loc[reviews["version"] == version, "text"].astype(str).tolist()
        table = category_topics(texts, tfidf_vectors(texts), version, len(texts), settings.topics,
                                settings.max_topics, settings.min_topic_size, settings.topic_words, 0)
        found[version] = set().union(*(phrase_words(words) for words in table["words"])) if len(table) else set()
    return found


def top_rising(counts, versions: list[str], issues: int = 1, cut: float | None = None) -> pd.DataFrame:
    """Yardsticks without the product's test: every version that has a history named by its most-rising phrases,
    ``issues`` "flags" of 5 phrases in rank order; with ``cut``, only phrases whose log-odds z reaches it."""
    line = timeline(counts, "version")
    rows = []
    for version in versions:
        window = Window(counts, line, ALL_REVIEWS, line.windows[version])
        if not window.history():
            continue
        z = window.rising()
        ranked = window.rising_phrases(z if cut is None else np.where(z >= cut, z, 0.0), PHRASES * issues)
        rows += [{"by": "version", "window": version, "phrases": PHRASE_SEPARATOR.join(ranked[i:i + PHRASES])}
                 for i in range(0, len(ranked), PHRASES)]
    return pd.DataFrame(rows, columns=["by", "window", "phrases"])


def evaluate(protocol: Protocol, flags: pd.DataFrame, versions: list[str], topics: dict[str, set[str]],
             notes: list, matcher: Matcher, cosine: float | None) -> pd.DataFrame:
    """One row per evaluated version: its flags, how many the notes mention, its changes, how many its flags and
    its topics cover."""
    rows = []
    for version in versions:
        items = next_changes(version, notes, protocol.notes_ahead)
        if not items:
            continue
        flagged = flags[(flags["by"] == "version") & (flags["window"] == version)]
        words = [phrase_words(phrases) for phrases in flagged["phrases"]]
        said = set().union(*words) if words else set()
        keys = frozenset().union(*items)
        rows.append({"version": version, "flags": len(flagged),
                     "mentioned": sum(any(matcher.meets(w, item, cosine) for item in items) for w in words),
                     "changes": len(items), "covered": sum(matcher.meets(said, item, cosine) for item in items),
                     "covered_by_topics": sum(matcher.meets(topics.get(version, set()), item, cosine)
                                              for item in items),
                     "flag_phrases": " / ".join(flagged["phrases"]),
                     "matched": ", ".join(matcher.pairs(said, keys, cosine))})
    return pd.DataFrame(rows)


def scores(table: pd.DataFrame, pooled: bool) -> dict[str, float]:
    """Precision_E, Recall_L of the flags and of the topics, and the two F_hybrid."""
    if pooled:
        precision = table["mentioned"].sum() / max(table["flags"].sum(), 1)
        recall = table["covered"].sum() / max(table["changes"].sum(), 1)
        by_topics = table["covered_by_topics"].sum() / max(table["changes"].sum(), 1)
    else:
        with_flags = table[table["flags"] > 0]
        precision = float((with_flags["mentioned"] / with_flags["flags"]).mean()) if len(with_flags) else 0.0
        recall = float((table["covered"] / table["changes"]).mean())
        by_topics = float((table["covered_by_topics"] / table["changes"]).mean())
    return {"precision_e": float(precision), "recall_l_flags": float(recall), "f_hybrid_flags": harmonic(precision, recall),
            "recall_l_topics": float(by_topics), "f_hybrid_topics": harmonic(precision, by_topics)}


def harmonic(a: float, b: float) -> float:
    return float(2 * a * b / (a + b)) if a + b else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-keyterms", action="store_true")
    parser.add_argument("--cosine", type=float, default=COSINE)
    args = parser.parse_args()
    if args.write_keyterms or not KEYTERMS.is_file():
        write_keyterms()
    reviews = pd.read_csv(require(IDEA_YOUTUBE / "youtube_ios_reviews.csv"), dtype=str)
    counts = trend_counts(reviews, pd.Series(ALL_REVIEWS, index=reviews.index), text_column="text",
                          version_column="version", rating_column="rating")
    flags = find_emerging(counts).flags
    per_version = reviews["version"].value_counts()
    ordered = sorted(per_version.index, key=version_key)
    chosen = {STRICT: [v for v in ordered if counts.reviews[("version", ALL_REVIEWS, v)] >= counts.settings.min_reviews],
              IDEA: [v for v in ordered if per_version[v] > IDEA_MIN_REVIEWS]}
    topics = version_topics(reviews, chosen[IDEA], counts.settings)
    yardsticks = {name: top_rising(counts, chosen[STRICT], issues, cut) for name, (issues, cut) in YARDSTICKS.items()}
    notes = release_notes()
    named = [*flags["phrases"], *(p for table in yardsticks.values() for p in table["phrases"])]
    words = set().union(*(phrase_words(p) for p in named), *topics.values(),
                        *(item for _, items in notes for item in items))
    matcher = Matcher(words)
    tables, results = {}, {}
    for name, protocol, cosine, found in (("idea", IDEA, args.cosine, flags), ("strict", STRICT, None, flags),
                                          *((f"idea, cosine {c}", IDEA, c, flags) for c in SENSITIVITY),
                                          *((f"{y}, idea", IDEA, args.cosine, t) for y, t in yardsticks.items()),
                                          *((f"{y}, strict", STRICT, None, t) for y, t in yardsticks.items())):
        tables[name] = evaluate(protocol, found, chosen[protocol], topics, notes, matcher, cosine)
        results[name] = scores(tables[name], protocol.pooled)
    weeks = flags[(flags["by"] == "week") & flags["phrases"].str.contains(INCIDENT)]["window"]
    print(tables["idea"].drop(columns=["flag_phrases", "matched"]).to_string(index=False))
    for name, found in results.items():
        print(f"{name:>34}: " + "  ".join(f"{key} {value:.3f}" for key, value in found.items()))
    print(f"incident first flagged {weeks.min() if len(weeks) else 'never'}")
    save_result("trends_idea", {"machine": machine(), "cosine": args.cosine, "scores": results,
                                "per_version": {name: tables[name].to_dict("records")
                                                for name in ("idea", "strict", "no test, 1 issue, idea")},
                                "topic_words": {v: sorted(w) for v, w in topics.items()},
                                "incident_first_week": weeks.min() if len(weeks) else None})


if __name__ == "__main__":
    main()
