"""The topics inside a category: its reviews' sentence vectors clustered with k-means (k chosen by the silhouette
unless set), each cluster named by its most distinctive phrases against the category's other clusters (class-based
TF-IDF, as BERTopic names its topics) and shown with its size, its coherence and its most central reviews.

scikit-learn does every step: BERTopic itself is not used (docs/benchmarks/trends.md: it needs umap-learn, hdbscan,
numba and sentence-transformers, a second encoder stack, for what KMeans and a few lines of c-TF-IDF do here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from review_cls.monitoring.counts import TrendCounts
from review_cls.monitoring.phrases import distinct_phrases, phrases_of

TOPIC_COLUMNS = ["category", "topic", "share", "reviews", "words", "coherence", "examples"]
# TF-IDF vectors (no model, or runtime=onnx) are reduced to this many dimensions before k-means
TFIDF_DIMENSIONS = 100
# the silhouette is scored on at most this many reviews (its cost grows with the square of their number)
SILHOUETTE_SAMPLE = 1000
Embed = Callable[[list[str]], np.ndarray]


def tfidf_vectors(texts: Sequence[str]) -> np.ndarray:
    """Sentence vectors without a model: TF-IDF of the review's phrases, reduced by truncated SVD (LSA)."""
    matrix = TfidfVectorizer(analyzer=phrases_of, min_df=2, sublinear_tf=True).fit_transform(texts) \
        if len(texts) > 1 else None
    if matrix is None or matrix.shape[1] < 2:
        return np.zeros((len(texts), 1), dtype=np.float32)
    dimensions = min(TFIDF_DIMENSIONS, matrix.shape[1] - 1, len(texts) - 1)
    return TruncatedSVD(dimensions, random_state=0).fit_transform(matrix).astype(np.float32)


def topic_count(vectors: np.ndarray, wanted: int | None, max_topics: int, min_size: int) -> int:
    """``wanted``, or the k in 2..``max_topics`` (each topic ``min_size`` reviews on average) with the best
    silhouette; at most what the reviews allow (and no more than their distinct vectors)."""
    largest = min(max_topics, len(vectors) // min_size, len(np.unique(vectors.round(6), axis=0)))
    if wanted is not None:
        return max(1, min(wanted, largest))
    if largest < 2:
        return 1
    scored = {}
    subset = np.random.default_rng(0).permutation(len(vectors))[:SILHOUETTE_SAMPLE]
    for k in range(2, largest + 1):
        labels = KMeans(k, n_init=4, random_state=0).fit_predict(vectors)
        scored[k] = silhouette_score(vectors[subset], labels[subset]) if len(set(labels[subset])) > 1 else -1.0
    return max(scored, key=scored.get)


def class_tfidf(texts: Sequence[str], labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Class-based TF-IDF (Grootendorst 2022): each phrase's frequency in a cluster times log(1 + mean phrases
    per cluster / its frequency over all clusters). Returns (k x phrases scores, the phrase names)."""
    vectorizer = CountVectorizer(analyzer=phrases_of)
    counts = vectorizer.fit_transform(texts)
    per_topic = np.vstack([np.asarray(counts[labels == topic].sum(axis=0)).ravel() for topic in range(k)])
    frequency = per_topic / np.maximum(per_topic.sum(axis=1, keepdims=True), 1)
    idf = np.log(1 + per_topic.sum(axis=1).mean() / np.maximum(per_topic.sum(axis=0), 1))
    return frequency * idf, vectorizer.get_feature_names_out()


def npmi(words: Sequence[str], documents: Sequence[set[str]]) -> float:
    """Mean normalized pointwise mutual information of the word pairs over ``documents`` (each a set of phrases):
    1 when the words always come together, 0 when independent, -1 when never together (Bouma 2009)."""
    if len(words) < 2 or not documents:
        return float("nan")
    total = len(documents)
    held = {word: {i for i, document in enumerate(documents) if word in document} for word in words}
    scores = []
    for first, second in combinations(words, 2):
        both = len(held[first] & held[second])
        if both == 0:
            scores.append(-1.0)
            continue
        joint = both / total
        if joint == 1.0:
            scores.append(1.0)
            continue
        pmi = np.log(joint / (len(held[first]) / total * len(held[second]) / total))
        scores.append(float(pmi / -np.log(joint)))
    return float(np.mean(scores))


def category_topics(texts: list[str], vectors: np.ndarray, category: str, category_reviews: int, wanted: int | None,
                    max_topics: int, min_size: int, words: int, examples: int) -> pd.DataFrame:
    """The topics of one category's (sampled) reviews, largest first; none when it has fewer than 2 x ``min_size``."""
    if len(texts) < 2 * min_size:
        return pd.DataFrame(columns=TOPIC_COLUMNS)
    vectors = normalize(np.asarray(vectors, dtype=np.float64))
    k = topic_count(vectors, wanted, max_topics, min_size)
    model = KMeans(k, n_init=4, random_state=0).fit(vectors)
    labels = model.labels_
    scores, names = class_tfidf(texts, labels, k)
    documents = [set(phrases_of(text)) for text in texts]
    rows = []
    for topic in range(k):
        members = np.flatnonzero(labels == topic)
        ranked = [str(names[i]) for i in np.argsort(-scores[topic])[: 4 * words] if scores[topic, i] > 0]
        top = distinct_phrases(ranked, words)
        centre = normalize(model.cluster_centers_[topic : topic + 1])[0]
        central = members[np.argsort(-(vectors[members] @ centre))[:examples]]
        rows.append({"category": category, "share": len(members) / len(texts),
                     "reviews": round(len(members) / len(texts) * category_reviews), "words": "; ".join(top),
                     "coherence": round(npmi(top, documents), 3),
                     "examples": "\n".join(" ".join(texts[i].split()) for i in central)})
    table = pd.DataFrame(rows).sort_values("share", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(1, "topic", np.arange(1, len(table) + 1))
    return table[TOPIC_COLUMNS]


def find_topics(counts: TrendCounts, embed: Embed | None) -> pd.DataFrame:
    """The topics of every category from its sample of reviews: sentence vectors from ``embed`` (the trained
    model's encoder), or TF-IDF vectors without one."""
    settings = counts.settings
    tables = []
    for category in sorted(counts.topic_samples, key=lambda name: -counts.category_reviews[name]):
        kept = sorted(counts.topic_samples[category], key=lambda sampled: sampled.row)
        texts = [sampled.text for sampled in kept]
        if len(texts) < 2 * settings.min_topic_size:
            continue
        vectors = embed(texts) if embed is not None else tfidf_vectors(texts)
        tables.append(category_topics(texts, vectors, category, counts.category_reviews[category], settings.topics,
                                      settings.max_topics, settings.min_topic_size, settings.topic_words,
                                      settings.topic_examples))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=TOPIC_COLUMNS)
