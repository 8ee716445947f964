"""The TF-IDF + logistic regression pipeline's settings."""

from __future__ import annotations

import pytest

from review_cls.errors import ConfigError
from review_cls.models.tfidf import build_tfidf_pipeline


def test_tfidf_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="both null"):
        build_tfidf_pipeline(word_ngram_range=None, char_ngram_range=None)
    with pytest.raises(ConfigError, match="C must be"):
        build_tfidf_pipeline(C=0)
