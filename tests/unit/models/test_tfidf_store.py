"""The TF-IDF pipeline stored as JSON and arrays: rebuilt probabilities equal the fitted pipeline's (single-label,
binary, multi-label with a constant label), and a cut, changed or pickle-carrying file is a CheckpointError naming
it, with no code run."""

from __future__ import annotations

import io
import json
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from review_cls.errors import CheckpointError
from review_cls.models.tfidf import build_tfidf_pipeline, full_probabilities
from review_cls.models.tfidf_store import file_sha256, load_tfidf, save_tfidf
from tests.helpers import CONF_DIR, DEMO_CSV


@pytest.fixture(scope="module")
def demo() -> tuple[list[str], list[str], np.ndarray]:
    frame = pd.read_csv(DEMO_CSV).groupby("category").head(40).sample(frac=1.0, random_state=0)
    labels = sorted(frame["category"].unique())
    return frame["review"].astype(str).tolist(), labels, frame["category"].map(labels.index).to_numpy()


def fitted(texts: list[str], targets: np.ndarray, config: str = "default", multilabel: bool = False):
    """The project's TF-IDF pipeline with conf/tfidf/<config>.yaml (its keys over the default group's)."""
    options = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "tfidf" / "default.yaml"))
    chosen = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "tfidf" / f"{config}.yaml"))
    options |= {key: value for key, value in chosen.items() if key != "defaults"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one-vs-rest warns about a label present in no training review
        return build_tfidf_pipeline(**options, seed=0, multilabel=multilabel).fit(texts, targets)


@pytest.fixture(scope="module")
def stored(demo, tmp_path_factory) -> tuple[object, Path]:
    texts, labels, targets = demo
    pipeline = fitted(texts[:150], targets[:150])
    return pipeline, save_tfidf(pipeline, labels, tmp_path_factory.mktemp("tfidf") / "tfidf.npz")


def test_rebuilt_probabilities_equal_the_fitted_pipelines(demo, stored):
    texts, labels, _ = demo
    pipeline, path = stored
    loaded = load_tfidf(path, sha256=file_sha256(path))
    unseen = [*texts[150:], "", "ÜNÏCÖDE 送貨太慢了 !!!"]
    np.testing.assert_allclose(loaded.predict_probabilities(unseen), full_probabilities(pipeline, unseen, len(labels)),
                               rtol=0, atol=1e-9)
    assert loaded.labels == labels and not loaded.multilabel


@pytest.mark.parametrize("config", ["default", "chinese"])
def test_two_classes_and_character_grams_alone_rebuild_too(demo, tmp_path, config):
    texts, labels, targets = demo
    keep = targets < 2
    pipeline = fitted(np.asarray(texts)[keep][:60].tolist(), targets[keep][:60], config)
    loaded = load_tfidf(save_tfidf(pipeline, labels, tmp_path / "tfidf.npz"))
    np.testing.assert_allclose(loaded.predict_probabilities(texts[150:]),
                               full_probabilities(pipeline, texts[150:], len(labels)), rtol=0, atol=1e-9)


def test_multilabel_one_vs_rest_with_a_label_no_training_review_has(demo, tmp_path):
    texts, labels, targets = demo
    indicator = np.eye(len(labels), dtype=int)[targets]
    indicator[::4, 0] = 1
    indicator[:, -1] = 0  # the last label: no positive in training, kept as a constant 0
    pipeline = fitted(texts[:150], indicator[:150], multilabel=True)
    loaded = load_tfidf(save_tfidf(pipeline, labels, tmp_path / "tfidf.npz"))
    expected = full_probabilities(pipeline, texts[150:], len(labels))
    np.testing.assert_allclose(loaded.predict_probabilities(texts[150:]), expected, rtol=0, atol=1e-9)
    assert loaded.multilabel and (expected[:, -1] == 0).all()


def test_a_cut_file_is_an_error_naming_it(stored, tmp_path):
    _, path = stored
    cut = tmp_path / "tfidf.npz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=str(cut)):
        load_tfidf(cut)


def test_a_changed_byte_is_an_error_naming_the_file(stored, tmp_path):
    _, path = stored
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    changed = tmp_path / "tfidf.npz"
    changed.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=str(changed)):
        load_tfidf(changed)


def test_a_file_that_is_not_the_recorded_one_is_refused(demo, stored, tmp_path):
    _, path = stored
    texts, labels, targets = demo
    other = save_tfidf(fitted(texts[:120], targets[:120]), labels, tmp_path / "tfidf.npz")
    with pytest.raises(CheckpointError, match="changed after it was written"):
        load_tfidf(other, sha256=file_sha256(path))
    with pytest.raises(CheckpointError, match="missing"):
        load_tfidf(tmp_path / "absent.npz")


def rewritten(path: Path, target: Path, **replace: np.ndarray) -> Path:
    """``path``'s arrays with some replaced, written as a new file (a well-formed zip: only the content lies)."""
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    with open(target, "wb") as stream:
        np.savez(stream, **{**arrays, **replace})
    return target


def settings_of(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as stored:
        return json.loads(bytes(stored["settings"]).decode("utf-8"))


def as_bytes(document: dict) -> np.ndarray:
    return np.frombuffer(json.dumps(document).encode("utf-8"), dtype=np.uint8)


@pytest.mark.parametrize("change, message", [
    (lambda s: s["vectorizers"][0]["params"].update(input="filename"), "input 'filename'"),
    (lambda s: s["vectorizers"][0]["params"].update(analyzer="custom"), "analyzer 'custom'"),
    (lambda s: s.update(version=99), "version 99"),
    (lambda s: s.update(classes=[0, 1, 2, 3, 9, 5]), "class ids"),
])
def test_settings_that_lie_are_refused(stored, tmp_path, change, message):
    _, path = stored
    settings = settings_of(path)
    change(settings)
    with pytest.raises(CheckpointError, match=message):
        load_tfidf(rewritten(path, tmp_path / "tfidf.npz", settings=as_bytes(settings)))


def test_arrays_of_the_wrong_shape_are_refused(stored, tmp_path):
    _, path = stored
    with np.load(path, allow_pickle=False) as arrays:
        idf, coef = arrays["word.idf"], arrays["coef"]
    with pytest.raises(CheckpointError, match="idf weights"):
        load_tfidf(rewritten(path, tmp_path / "idf.npz", **{"word.idf": idf[:-1]}))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_tfidf(rewritten(path, tmp_path / "coef.npz", coef=coef[:, :-1]))


class Marker:
    """Unpickling this would create a file: it must never happen."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def test_a_pickled_object_inside_is_never_unpickled(stored, tmp_path):
    _, path = stored
    marker = tmp_path / "code_ran"
    target = tmp_path / "tfidf.npz"
    target.write_bytes(path.read_bytes())
    payload = io.BytesIO()
    np.save(payload, np.array([Marker(marker)], dtype=object), allow_pickle=True)
    with warnings.catch_warnings(), zipfile.ZipFile(target, "a") as archive:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
        archive.writestr("coef.npy", payload.getvalue())  # a second coef.npy member: the one np.load reads last
    with pytest.raises(CheckpointError, match=str(target)):
        load_tfidf(target)
    assert not marker.exists()
    assert pickle.loads(pickle.dumps(1)) == 1  # pickle itself works here: the store, not the machine, refused it


@pytest.mark.parametrize("change, message", [
    (lambda pipeline: pipeline.steps[0][1].transformer_list[0][1].set_params(preprocessor=str.lower), "preprocessor"),
    (lambda pipeline: pipeline.steps[0][1].transformer_list[0][1].set_params(input="filename"), "input"),
    # a class-weight dict's integer keys would come back as strings
    (lambda pipeline: pipeline.steps[1][1].set_params(class_weight={0: 2.0}), "do not survive JSON"),
])
def test_a_pipeline_the_file_cannot_rebuild_is_refused_when_saving(demo, tmp_path, change, message):
    texts, labels, targets = demo
    pipeline = fitted(texts[:60], targets[:60])
    change(pipeline)
    with pytest.raises(ValueError, match=message):
        save_tfidf(pipeline, labels, tmp_path / "tfidf.npz")
    assert not (tmp_path / "tfidf.npz").exists()
