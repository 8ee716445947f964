"""Phrases of a review (words, pairs and triples without edge stop words, CJK character pairs) and the log-odds
z-score of the phrases that rose."""

from __future__ import annotations

import numpy as np

from review_cls.monitoring.phrases import distinct_phrases, phrases_of, rising_z


def test_phrases_keep_complaint_words_and_never_cross_a_clause():
    found = phrases_of("Something went wrong. Tap to retry! The app is slow")
    assert {"something went wrong", "tap to retry", "retry", "slow"} <= set(found)
    assert "wrong tap" not in found and "to retry" not in found and "the" not in found
    assert len(found) == len(set(found))


def test_chinese_runs_give_character_pairs_and_triples():
    found = phrases_of("配送太慢了 but the refund came")
    assert {"配送", "太慢", "配送太", "refund"} <= set(found)


def test_rising_z_ranks_the_phrase_that_rose_first_and_shrinks_rare_ones():
    window = np.array([30, 3, 10, 0])
    history = np.array([2, 0, 80, 5])
    z = rising_z(window, history)
    assert z.argmax() == 0 and z[0] > z[1] > 0 > z[2]
    assert rising_z(np.array([0, 4, 3]), np.array([0, 9, 5]))[0] == 0  # never counted: no odds


def test_rising_z_is_zero_for_a_phrase_used_at_one_rate_before_and_now_whatever_the_sizes():
    history = np.array([40, 120, 840])  # shares 4%, 12%, 84%
    for window in (np.array([2, 6, 42]), np.array([400, 1200, 8400])):
        assert np.allclose(rising_z(window, history), 0)


def test_distinct_phrases_keep_the_longer_phrase_in_the_shorter_ones_place():
    assert distinct_phrases(["retry", "tap to retry", "wrong", "tap", "login"], 3) == ["tap to retry", "wrong", "login"]
