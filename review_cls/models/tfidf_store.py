"""The fitted TF-IDF pipeline (models/tfidf.py) on disk as plain numbers and strings, loaded without running any
pickled code.

Format: one ``.npz`` file (numpy's zip of arrays, read with ``allow_pickle=False``) holding a JSON document of the
settings and the label names, each vectorizer's terms (a JSON list, in column order) and idf weights, and the
logistic regressions' coefficients and intercepts. Loading builds the scikit-learn objects through their public
constructors and sets their public fitted attributes (``vocabulary``, ``idf_``, ``coef_``, ``intercept_``,
``classes_``); the probabilities equal the fitted pipeline's.

Why not skops (which installs and loads with a list of trusted types): skops rebuilds objects from their private
``__dict__`` state, so a file is tied to the scikit-learn version that wrote it, and its safety rests on every type
it is told to trust (its trusted-type checks have had bypasses). This file holds only arrays and JSON; the loader
builds a fixed set of scikit-learn classes and checks every shape and setting against them, so a changed or cut file
is a :class:`~review_cls.errors.CheckpointError` naming it, never code that runs. A change that keeps the file
well-formed (a coefficient edited) is caught by the SHA-256 that a checkpoint or export records beside it
(:func:`file_sha256`, ``load_tfidf(path, sha256=...)``).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from review_cls.errors import CheckpointError
from review_cls.models.tfidf import full_probabilities
from review_cls.utils.atomic import atomic_file

# the file a run folder and an export folder keep the fitted TF-IDF pipeline in
TFIDF_FILE = "tfidf.npz"
FORMAT, VERSION = "review_cls.tfidf", 1
# what a stored vectorizer may say: it reads the review text itself (no file names, no callables) into floats
ANALYZERS = ("word", "char", "char_wb")
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class StoredTfidf:
    """A fitted TF-IDF pipeline with the label names its class ids stand for (``labels[i]`` is class ``i``)."""

    pipeline: Any
    labels: list[str]
    multilabel: bool

    def predict_probabilities(self, texts: list[str]) -> np.ndarray:
        """Probabilities (N x labels, float64), one column per label id, as the run's baseline scored them."""
        return full_probabilities(self.pipeline, texts, len(self.labels))


def save_tfidf(pipeline: Any, labels: Sequence[str], path: str | Path) -> Path:
    """Write a fitted :func:`~review_cls.models.tfidf.build_tfidf_pipeline` pipeline to ``path`` (atomically).

    A pipeline of another shape (a callable analyzer, other steps) is a ``ValueError``: the file could not rebuild it.
    """
    settings, arrays = pipeline_state(pipeline, list(labels))
    document = json.dumps(settings, ensure_ascii=False).encode("utf-8")
    with atomic_file(path) as temporary, open(temporary, "wb") as stream:
        np.savez_compressed(stream, settings=np.frombuffer(document, dtype=np.uint8), **arrays)
    return Path(path)


def load_tfidf(path: str | Path, sha256: str | None = None) -> StoredTfidf:
    """The pipeline :func:`save_tfidf` wrote, rebuilt; ``sha256`` (the digest recorded beside it, if any) must match.

    A missing, cut or changed file is a :class:`CheckpointError` naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"'{path}' is missing: the fitted TF-IDF part of the model is not there.")
    if sha256 is not None and file_sha256(path) != sha256:
        raise CheckpointError(f"'{path}' was changed after it was written (its SHA-256 is not the one recorded "
                              "beside it). Copy the whole run or export folder again.")
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        settings = json.loads(bytes(arrays.pop("settings")).decode("utf-8"))
        stored_tfidf = rebuild(settings, arrays)
        stored_tfidf.predict_probabilities(["a review"])  # a file that rebuilds but cannot score fails here, once
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, zipfile.BadZipFile,
            EOFError) as error:
        raise CheckpointError(f"'{path}' is not a usable TF-IDF file (cut short, changed, or not written by "
                              f"review_cls): {type(error).__name__}: {error}") from error
    return stored_tfidf


def file_sha256(path: str | Path) -> str:
    """The file's SHA-256 (hex): what a checkpoint or export records, so a swapped file is refused."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pipeline_state(pipeline: Any, labels: list[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON settings and the arrays that rebuild ``pipeline``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier

    features, classifier = (step for _, step in pipeline.steps)
    if features.transformer_weights is not None:
        raise ValueError("A FeatureUnion with transformer_weights cannot be stored.")
    settings: dict[str, Any] = {"format": FORMAT, "version": VERSION, "labels": labels, "vectorizers": []}
    arrays: dict[str, np.ndarray] = {}
    for name, vectorizer in features.transformer_list:
        if type(vectorizer) is not TfidfVectorizer:
            raise ValueError(f"Transformer '{name}' is a {type(vectorizer).__name__}, not a TfidfVectorizer.")
        params = vectorizer_params(vectorizer)
        terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
        settings["vectorizers"].append({"name": name, "params": params})
        arrays[f"{name}.terms"] = np.frombuffer(json.dumps(terms, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        arrays[f"{name}.idf"] = np.asarray(vectorizer.idf_, dtype=np.float64)
    settings["multilabel"] = isinstance(classifier, OneVsRestClassifier)
    regressions = classifier.estimators_ if settings["multilabel"] else [classifier]
    constants = [constant_of(regression) for regression in regressions]
    fitted = [regression for regression, constant in zip(regressions, constants) if constant is None]
    settings["classifier"] = json_params(fitted[0] if fitted else classifier.estimator)
    settings["classes"] = [int(value) for value in classifier.classes_]
    settings["constants"] = constants
    width = sum(len(arrays[f"{entry['name']}.idf"]) for entry in settings["vectorizers"])
    # a constant's row: zeros, never read (the loader rebuilds the constant)
    rows = [(np.zeros((1, width)), np.zeros(1)) if constant is not None else (regression.coef_, regression.intercept_)
            for regression, constant in zip(regressions, constants)]
    arrays["coef"] = np.concatenate([coef for coef, _ in rows]).astype(np.float64)
    arrays["intercept"] = np.concatenate([intercept for _, intercept in rows]).astype(np.float64)
    return settings, arrays


def constant_of(regression: Any) -> int | None:
    """One-vs-rest keeps a constant in place of a regression for a label that training has on every review or on
    none (scikit-learn's ``_ConstantPredictor``): that constant (0 or 1), else ``None``."""
    return int(np.ravel(regression.y_)[0]) if type(regression).__name__ == "_ConstantPredictor" else None


def vectorizer_params(vectorizer: Any) -> dict[str, Any]:
    """A vectorizer's settings as JSON, refusing what a file cannot hold (callables) or must not (file input)."""
    params = {key: value for key, value in vectorizer.get_params().items() if key != "vocabulary"}
    params["dtype"] = np.dtype(params["dtype"]).name
    params["ngram_range"] = list(params["ngram_range"])
    check_vectorizer_params(params)
    return json_params(params)


def json_params(estimator_or_params: Any) -> dict[str, Any]:
    """Settings that survive a JSON round trip unchanged (a dict with integer keys or a callable would not)."""
    params = estimator_or_params if isinstance(estimator_or_params, dict) else estimator_or_params.get_params()
    try:
        unchanged = json.loads(json.dumps(params)) == params
    except TypeError:  # a callable, a set
        unchanged = False
    if not unchanged:
        raise ValueError(f"Settings {params} do not survive JSON unchanged; this pipeline cannot be stored.")
    return params


def check_vectorizer_params(params: dict[str, Any]) -> None:
    """The stored vectorizer reads the review text (not files) with a built-in analyzer into floats."""
    if params.get("input") != "content":
        raise ValueError(f"vectorizer input {params.get('input')!r} is not 'content'")
    if params.get("analyzer") not in ANALYZERS:
        raise ValueError(f"vectorizer analyzer {params.get('analyzer')!r} is not one of {ANALYZERS}")
    if params.get("preprocessor") is not None or params.get("tokenizer") is not None:
        raise ValueError("a vectorizer with its own preprocessor or tokenizer cannot be stored")
    if params.get("dtype") not in DTYPES:
        raise ValueError(f"vectorizer dtype {params.get('dtype')!r} is not one of {DTYPES}")


def rebuild(settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> StoredTfidf:
    """The pipeline from its settings and arrays, every shape checked before it is used."""
    from sklearn.pipeline import FeatureUnion, Pipeline

    if settings.get("format") != FORMAT or settings.get("version") != VERSION:
        raise ValueError(f"format {settings.get('format')!r} version {settings.get('version')!r}, expected "
                              f"{FORMAT!r} version {VERSION}")
    labels = [str(label) for label in settings["labels"]]
    vectorizers = [(entry["name"], rebuild_vectorizer(entry["params"], arrays, entry["name"]))
                   for entry in settings["vectorizers"]]
    if not vectorizers:
        raise ValueError("no vectorizer")
    width = sum(len(vectorizer.vocabulary_) for _, vectorizer in vectorizers)
    classifier = rebuild_classifier(settings, arrays, width, len(labels))
    pipeline = Pipeline([("features", FeatureUnion(vectorizers)), ("classifier", classifier)])
    return StoredTfidf(pipeline, labels, bool(settings["multilabel"]))


def rebuild_vectorizer(params: dict[str, Any], arrays: dict[str, np.ndarray], name: str) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    check_vectorizer_params(params)
    terms = json.loads(bytes(arrays[f"{name}.terms"]).decode("utf-8"))
    idf = arrays[f"{name}.idf"]
    if not isinstance(terms, list) or not all(isinstance(term, str) for term in terms):
        raise ValueError(f"the terms of vectorizer '{name}' are not a list of strings")
    if len(set(terms)) != len(terms) or idf.shape != (len(terms),) or not np.isfinite(idf).all():
        raise ValueError(f"vectorizer '{name}': {len(terms)} terms ({len(set(terms))} distinct) but "
                              f"{idf.shape} idf weights")
    dtype = np.dtype(params["dtype"]).type
    vectorizer = TfidfVectorizer(**{**params, "dtype": dtype, "ngram_range": tuple(params["ngram_range"])},
                                 vocabulary=terms)
    vectorizer.idf_ = idf.astype(np.float64)
    return vectorizer


def rebuild_classifier(settings: dict[str, Any], arrays: dict[str, np.ndarray], width: int, num_labels: int) -> Any:
    """A multinomial logistic regression, or one binary regression (or constant) per label under one-vs-rest."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier, _ConstantPredictor
    from sklearn.preprocessing import LabelBinarizer

    coef, intercept, classes = arrays["coef"], arrays["intercept"], np.asarray(settings["classes"], dtype=np.int64)
    if coef.ndim != 2 or coef.shape[1] != width or intercept.shape != (coef.shape[0],):
        raise ValueError(f"coefficients {coef.shape} and intercepts {intercept.shape} do not fit {width} "
                              "features")
    if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
        raise ValueError("coefficients that are not finite numbers")
    if len(classes) == 0 or classes.min() < 0 or classes.max() >= num_labels or len(set(classes)) != len(classes):
        raise ValueError(f"class ids {classes.tolist()} do not index the {num_labels} labels")

    def regression(rows: slice, classes_of: np.ndarray) -> LogisticRegression:
        fitted = LogisticRegression(**settings["classifier"])
        fitted.coef_, fitted.intercept_, fitted.classes_ = coef[rows], intercept[rows], classes_of
        fitted.n_features_in_ = width
        return fitted

    if not settings["multilabel"]:
        if coef.shape[0] != (1 if len(classes) == 2 else len(classes)):
            raise ValueError(f"{coef.shape[0]} coefficient rows for {len(classes)} classes")
        return regression(slice(None), classes)
    constants = settings["constants"]
    if len(constants) != coef.shape[0] or len(classes) != coef.shape[0] or len(classes) < 2:
        raise ValueError(f"{coef.shape[0]} one-vs-rest rows for {len(classes)} labels")
    estimators = []
    for row, constant in enumerate(constants):
        if constant is None:
            estimators.append(regression(slice(row, row + 1), np.arange(2)))
            continue
        estimator = _ConstantPredictor()
        estimator.y_, estimator.n_features_in_ = np.array([int(constant)]), width
        estimators.append(estimator)
    classifier = OneVsRestClassifier(LogisticRegression(**settings["classifier"]))
    classifier.estimators_ = estimators
    classifier.label_binarizer_ = LabelBinarizer(sparse_output=True).fit(np.eye(len(classes), dtype=int))
    classifier.classes_, classifier.n_features_in_ = classifier.label_binarizer_.classes_, width
    return classifier
