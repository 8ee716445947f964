"""The tfidf group's checks and the TF-IDF + logistic regression pipeline they guard."""

from __future__ import annotations

import pytest

from review_cls.errors import ConfigError
from review_cls.models.tfidf import build_tfidf_pipeline, check_tfidf_settings
from tests.helpers import group_settings


def test_tfidf_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="both null"):
        check_tfidf_settings(group_settings("tfidf", "default", word_ngram_range=None, char_ngram_range=None))
    with pytest.raises(ConfigError, match="C must be"):
        check_tfidf_settings(group_settings("tfidf", "default", C=0))


def test_pipeline_uses_the_enabled_vectorizers_only() -> None:
    pipeline = build_tfidf_pipeline(**group_settings("tfidf", "default", word_ngram_range=None), seed=0)
    assert [name for name, _ in pipeline.named_steps["features"].transformer_list] == ["char"]
    pipeline.fit(["late parcel", "app crash", "parcel lost", "crash on login"], [0, 1, 0, 1])
    assert pipeline.predict(["parcel late again"]).tolist() == [0]
