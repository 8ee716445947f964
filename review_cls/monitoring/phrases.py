"""The phrases of a review (what a flag or a topic is named by) and which of them rose in a window.

Words are lower-cased runs of letters; a review's phrases are its words, word pairs and word triples that neither
start nor end with a stop word ("tap to retry" is one, "to retry" is not). Chinese, Japanese and Korean have no
spaces: their runs give character pairs and triples instead (no segmenter to install; a rising complaint's
characters rise with it, so pairs name it well enough, e.g. 閃退 for "crashes").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# scikit-learn's list without the words a complaint is made of ("nothing happens", "something went wrong")
KEPT = {"nothing", "something", "never", "not", "no", "cannot", "cant", "empty", "fire", "bill", "find", "found",
        "full", "back", "down", "off", "up", "call", "fill", "move", "show", "top", "bottom", "front", "side"}
STOP_WORDS = frozenset((ENGLISH_STOP_WORDS - KEPT) | {"app", "s", "t", "don", "doesn", "didn", "isn", "won", "ve",
                                                      "ll", "re", "m", "d", "im", "ive", "just", "really", "it's",
                                                      "n't", "ca", "wo"})
# negations name nothing alone ("not"), only in a phrase ("not load", "never arrives")
NOT_ALONE = frozenset({"not", "no", "never", "cannot", "cant", "can't", "don't", "doesn't", "won't", "didn't"})
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
TOKEN = re.compile(rf"[{CJK}]+|[^\W\d_{CJK}]+(?:'[^\W\d_{CJK}]+)?")
IS_CJK = re.compile(rf"[{CJK}]")
# phrases never cross a clause: "...wrong. Tap to retry" gives no "wrong tap"
CLAUSE_END = re.compile(r"[.,!?;:()\[\]{}\"…。，！？；：、（）\n]+")
LONGEST = 3


def phrases_of(text: str) -> list[str]:
    """The phrases of one review, each once: its words, then its word pairs and triples (CJK: character pairs and
    triples)."""
    found: dict[str, None] = {}
    for clause in CLAUSE_END.split(str(text).lower()):
        words: list[str] = []
        for token in TOKEN.findall(clause):
            if IS_CJK.match(token):
                _add_words(words, found)
                words = []
                found.update(dict.fromkeys(token[i:i + n] for n in (2, 3) for i in range(len(token) - n + 1)))
            else:
                words.append(token)
        _add_words(words, found)
    return list(found)


def _add_words(words: list[str], found: dict[str, None]) -> None:
    found.update(dict.fromkeys(word for word in words if word not in STOP_WORDS and word not in NOT_ALONE
                               and len(word) > 2))
    for n in range(2, LONGEST + 1):
        for i in range(len(words) - n + 1):
            first, last = words[i], words[i + n - 1]
            if first not in STOP_WORDS and last not in STOP_WORDS and len(first) > 1 and len(last) > 1:
                found[" ".join(words[i:i + n])] = None


def rising_z(window: np.ndarray, history: np.ndarray) -> np.ndarray:
    """Log-odds ratio of each phrase in the window against its history, with an informative Dirichlet prior, as a
    z-score (Monroe, Colaresi and Quinn 2008): large when a phrase is used more now than before, shrunk towards 0 for
    rare phrases, so three mentions never outrank thirty.

    The prior is the phrase's count in the window and its history together, the reviews being compared: a phrase
    used at one rate in both gets 0 whatever their sizes, and windows after this one never change its score (a prior
    from every window would count a later incident's phrases as rising long before it, and common phrases as
    rising in any window smaller than its history)."""
    window, history = np.asarray(window, dtype=np.float64), np.asarray(history, dtype=np.float64)
    prior = window + history
    prior_total, window_total, history_total = prior.sum(), window.sum(), history.sum()
    z = np.zeros_like(prior)
    seen = prior > 0  # a phrase in neither has no odds
    window, history, prior = window[seen], history[seen], prior[seen]
    now = np.log(window + prior) - np.log(window_total + prior_total - window - prior)
    before = np.log(history + prior) - np.log(history_total + prior_total - history - prior)
    z[seen] = (now - before) / np.sqrt(1.0 / (window + prior) + 1.0 / (history + prior))
    return z


def distinct_phrases(ranked: Sequence[str], limit: int) -> list[str]:
    """The first ``limit`` of ``ranked`` phrases, skipping one whose words all belong to a phrase already taken
    ("retry" after "tap to retry") or that holds one already taken ("tap to retry" after "retry" replaces it)."""
    taken: list[str] = []
    for phrase in ranked:
        words = _words(phrase)
        if any(_words(kept) >= words for kept in taken):
            continue
        inside = [i for i, kept in enumerate(taken) if _words(kept) <= words]
        if inside:
            taken[inside[0]] = phrase
            taken = [kept for i, kept in enumerate(taken) if i not in inside[1:]]
        else:
            taken.append(phrase)
        if len(taken) == limit:
            break
    return taken


def _words(phrase: str) -> set[str]:
    return set(phrase.split()) if " " in phrase or not IS_CJK.search(phrase) else set(phrase)
