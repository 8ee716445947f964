"""The TF-IDF + logistic regression classifier the baseline command fits (scikit-learn, seconds on a CPU)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from review_cls.errors import ConfigError


def build_tfidf_pipeline(
    word_ngram_range: Sequence[int] | None = (1, 2),
    char_ngram_range: Sequence[int] | None = (2, 5),
    sublinear_tf: bool = True,
    min_df: int = 1,
    class_weight: str | None = "balanced",
    C: float = 10.0,
    max_iter: int = 2000,
    seed: int = 0,
):
    """Word and within-word character n-gram TF-IDF features side by side, then a multinomial logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    vectorizers = []
    if word_ngram_range:
        vectorizers.append(("word", TfidfVectorizer(analyzer="word", ngram_range=tuple(word_ngram_range),
                                                    sublinear_tf=sublinear_tf, min_df=min_df)))
    if char_ngram_range:
        vectorizers.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char_ngram_range),
                                                    sublinear_tf=sublinear_tf, min_df=min_df)))
    if not vectorizers:
        raise ConfigError("tfidf.word_ngram_range and tfidf.char_ngram_range are both null; set at least one.")
    if not C > 0:
        raise ConfigError(f"tfidf.C must be > 0, got {C}.")
    classifier = LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter, random_state=seed)
    return Pipeline([("features", FeatureUnion(vectorizers)), ("classifier", classifier)])


def full_probabilities(pipeline, texts: list[str], num_labels: int) -> np.ndarray:
    """predict_proba with one column per label id, even if a class was absent from training."""
    probabilities = np.zeros((len(texts), num_labels), dtype=np.float64)
    probabilities[:, pipeline.classes_] = pipeline.predict_proba(texts)
    return probabilities
