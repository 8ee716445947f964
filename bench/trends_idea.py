"""IDEA's protocol on a real stream (YouTube for iOS, 5,000 App Store reviews, 33 versions): the issues flagged for
version v are checked against the release notes of the next release (what the developers then fixed).

    python -m bench.trends_idea [--write-keyterms]

- Key terms of a release note (written once to bench/idea_youtube_keyterms.csv by ``--write-keyterms``; the rule
  below, no hand edits): each numbered item of the note is one change, its key terms its words, lower-cased,
  without stop words, generic release-note words (GENERIC) and words of two letters or fewer, each reduced by
  ``stem``. A note with none ("Bug fixes and stability improvements") has nothing to check against: its version is
  left out.
- Matching: lexical overlap. A flag is mentioned by the next release note when a stemmed word of one of its phrases
  is one of the note's key terms; a change is covered when one of its key terms is a stemmed word of a flag of the
  version (Recall_L per change; ``recall_terms``: per key term, every word of every change counted).
- Precision_E = mentioned flags / flags; Recall_L = covered changes / changes (pooled over the evaluated versions:
  those that were tested, i.e. with trends.min_reviews reviews and history, and whose next note has key terms);
  F_hybrid their harmonic mean. Also: the incident's first flagged week (by week, same run).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

from bench.common import IDEA_YOUTUBE, machine, require, save_result, trend_counts
from review_cls.monitoring.emerging import PHRASE_SEPARATOR, find_emerging
from review_cls.monitoring.phrases import STOP_WORDS
from review_cls.monitoring.windows import version_key

KEYTERMS = Path("bench/idea_youtube_keyterms.csv")
GENERIC = {"bug", "bugs", "fix", "fixes", "fixed", "stability", "improvements", "improvement", "issue", "issues",
           "resolved", "new", "now", "added", "better", "support", "easier", "easily", "made", "make", "users", "user",
           "app", "youtube", "release", "following", "tap", "experience", "prefer", "previously", "available", "get",
           "uncommon", "caused", "causing", "prevented", "instead", "effort", "titles", "feeling", "way", "try",
           "hitting", "love", "ever", "trouble", "lets", "know", "will", "partially", "correct", "look", "able"}
WORD = re.compile(r"[a-z]+")
INCIDENT = "something go wrong|tap to retry"
ITEM = re.compile(r"\(\d+\)|\n")
CHANGE_SEPARATOR = " | "


def stem(word: str) -> str:
    """A crude suffix stripper that meets the publishers' lemmatised reviews halfway: crashes, crashed, crashing ->
    crash; videos -> video; replies -> repl (and reply -> repl)."""
    for suffix, keep in (("ies", 1), ("y", 1), ("ing", 3), ("ed", 3), ("es", 3), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep + 2:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {stem(w) for w in WORD.findall(text.lower()) if len(w) > 2 and w not in STOP_WORDS and w not in GENERIC}


def changes(note: str) -> list[str]:
    """The key terms of each numbered item of a release note ("(1) ... (2) ..."), space-joined per item."""
    items = (content_words(item) for item in ITEM.split(note))
    return [" ".join(sorted(words)) for words in items if words]


def write_keyterms() -> None:
    notes = pd.read_csv(require(IDEA_YOUTUBE / "youtube_ios_changelog.csv"), dtype=str)
    notes["key_terms"] = [CHANGE_SEPARATOR.join(changes(text)) for text in notes["changelog"]]
    notes[["version", "release_date", "key_terms"]].to_csv(KEYTERMS, index=False)
    print(f"wrote {KEYTERMS}")


def next_release_terms(versions: list[str]) -> dict[str, list[set[str]]]:
    """Each reviewed version -> the key terms of each change of the first release note after it."""
    notes = pd.read_csv(KEYTERMS, dtype=str, keep_default_na=False)
    ordered = sorted(zip(notes["version"], notes["key_terms"]), key=lambda item: version_key(item[0]))
    found = {}
    for version in versions:
        later = [terms for note, terms in ordered if version_key(note) > version_key(version)]
        if later:
            found[version] = [set(change.split()) for change in later[0].split(CHANGE_SEPARATOR) if change]
    return found


def evaluate(flags: pd.DataFrame, tested: set[str], terms: dict[str, list[set[str]]]) -> pd.DataFrame:
    rows = []
    for version in sorted(tested, key=version_key):
        items = terms.get(version, [])
        if not items:
            continue
        keys = set().union(*items)
        flagged = flags[(flags["by"] == "version") & (flags["window"] == version)]
        words = [content_words(phrases.replace(PHRASE_SEPARATOR, " ")) for phrases in flagged["phrases"]]
        said = set().union(*words) if words else set()
        rows.append({"version": version, "flags": len(flagged), "mentioned": sum(bool(w & keys) for w in words),
                     "changes": len(items), "covered": sum(bool(item & said) for item in items),
                     "key_terms": len(keys), "terms_covered": len(keys & said),
                     "flag_phrases": " / ".join(flagged["phrases"])})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-keyterms", action="store_true")
    args = parser.parse_args()
    if args.write_keyterms or not KEYTERMS.is_file():
        write_keyterms()
    reviews = pd.read_csv(require(IDEA_YOUTUBE / "youtube_ios_reviews.csv"), dtype=str)
    counts = trend_counts(reviews, pd.Series("all reviews", index=reviews.index), text_column="text",
                          version_column="version", rating_column="rating")
    flags = find_emerging(counts).flags
    min_reviews = counts.settings.min_reviews
    tested = {v for (axis, _, v), n in counts.reviews.items() if axis == "version" and n >= min_reviews}
    table = evaluate(flags, tested, next_release_terms(sorted(reviews["version"].dropna().unique())))
    precision = table["mentioned"].sum() / max(table["flags"].sum(), 1)
    recall = table["covered"].sum() / max(table["changes"].sum(), 1)
    recall_terms = table["terms_covered"].sum() / max(table["key_terms"].sum(), 1)
    f_hybrid = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    weeks = flags[(flags["by"] == "week") & flags["phrases"].str.contains(INCIDENT)]["window"]
    print(table.to_string(index=False))
    print(f"Precision_E {precision:.3f} Recall_L {recall:.3f} F_hybrid {f_hybrid:.3f} (Recall per key term "
          f"{recall_terms:.3f}); incident first flagged "
          f"{weeks.min() if len(weeks) else 'never'}")
    save_result("trends_idea", {"machine": machine(), "per_version": table.to_dict("records"),
                                "precision_e": precision, "recall_l": recall, "f_hybrid": f_hybrid,
                                "recall_per_key_term": recall_terms,
                                "incident_first_week": weeks.min() if len(weeks) else None})


if __name__ == "__main__":
    main()
