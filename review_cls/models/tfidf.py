"""The TF-IDF + logistic regression classifier the baseline command fits (scikit-learn, seconds on a CPU)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from review_cls.errors import ConfigError


def check_tfidf_settings(tfidf: Mapping[str, Any]) -> None:
    """Checks of the tfidf config group (conf/tfidf/), run before any data is read."""
    if not tfidf["word_ngram_range"] and not tfidf["char_ngram_range"]:
        raise ConfigError("tfidf.word_ngram_range and tfidf.char_ngram_range are both null; set at least one.")
    if not tfidf["C"] > 0:
        raise ConfigError(f"tfidf.C must be > 0, got {tfidf['C']}.")


def build_tfidf_pipeline(
    word_ngram_range: Sequence[int] | None,
    char_ngram_range: Sequence[int] | None,
    sublinear_tf: bool,
    min_df: int,
    class_weight: str | None,
    C: float,
    max_iter: int,
    seed: int,
    multilabel: bool = False,
):
    """Word and within-word character n-gram TF-IDF features side by side, then a multinomial logistic regression
    (``multilabel``: one binary logistic regression per label, scikit-learn's one-vs-rest).

    The arguments are the tfidf config group (conf/tfidf/), checked by :func:`check_tfidf_settings`, and the seed.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline

    vectorizers = []
    if word_ngram_range:
        vectorizers.append(("word", TfidfVectorizer(analyzer="word", ngram_range=tuple(word_ngram_range),
                                                    sublinear_tf=sublinear_tf, min_df=min_df)))
    if char_ngram_range:
        vectorizers.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char_ngram_range),
                                                    sublinear_tf=sublinear_tf, min_df=min_df)))
    classifier = LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter, random_state=seed)
    if multilabel:
        classifier = OneVsRestClassifier(classifier)
    return Pipeline([("features", FeatureUnion(vectorizers)), ("classifier", classifier)])


def full_probabilities(pipeline, texts: list[str], num_labels: int) -> np.ndarray:
    """predict_proba with one column per label id, even if a class was absent from training."""
    probabilities = np.zeros((len(texts), num_labels), dtype=np.float64)
    probabilities[:, pipeline.classes_] = pipeline.predict_proba(texts)
    return probabilities
