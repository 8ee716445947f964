"""Topics inside a category: k-means on sentence vectors, k by the silhouette, names by class-based TF-IDF, NPMI."""

from __future__ import annotations

import numpy as np
import pytest

from review_cls.monitoring.topics import TOPIC_COLUMNS, category_topics, find_topics, npmi, tfidf_vectors
from tests.unit.monitoring.streams import counted, stream

TEXTS = ([f"courier lost my parcel number {i}" for i in range(20)] + [f"refund never arrived after {i} days"
                                                                        for i in range(20)])


def test_two_clear_groups_become_two_topics_named_by_their_words():
    vectors = np.vstack([np.tile([1.0, 0.0], (20, 1)), np.tile([0.0, 1.0], (20, 1))])
    vectors += np.random.default_rng(0).normal(0, 0.05, vectors.shape)
    topics = category_topics(TEXTS, vectors, "delivery", 400, None, 6, 5, 3, 2)
    assert list(topics.columns) == TOPIC_COLUMNS and len(topics) == 2
    assert topics["share"].tolist() == [0.5, 0.5] and topics["reviews"].tolist() == [200, 200]
    named = " ".join(topics["words"])
    assert "parcel" in named and "refund" in named
    assert all(len(examples.split("\n")) == 2 for examples in topics["examples"])
    assert (topics["coherence"] > 0.5).all()


def test_a_category_too_small_for_two_topics_gets_none():
    assert category_topics(TEXTS[:9], np.eye(9), "x", 9, None, 6, 5, 3, 2).empty


def test_tfidf_vectors_separate_the_groups_without_a_model():
    vectors = tfidf_vectors(TEXTS)
    topics = category_topics(TEXTS, vectors, "delivery", 40, None, 4, 5, 3, 1)
    assert len(topics) == 2 and set(topics["share"]) == {0.5}


def test_npmi_is_one_for_words_always_together_and_minus_one_for_never():
    documents = [{"a", "b"}, {"a", "b"}, {"c"}, {"d"}]
    assert npmi(["a", "b"], documents) == pytest.approx(1.0)
    assert npmi(["a", "c"], documents) == -1.0


def test_find_topics_covers_each_category_from_its_sample():
    topics = find_topics(counted(stream(weeks=4)), embed=None)
    assert set(topics["category"]) == {"delivery", "payment"}
    assert topics.groupby("category")["share"].sum().round(6).eq(1.0).all()
