"""+experiment=chinese end to end on an encoder in the e5 layout (BERT + XLM-R unigram tokenizer), tiny and random:
train, reload with weights_only, export to a Hugging Face folder and to ONNX, predict the same."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from review_cls.inference.checkpoints import load_classifier
from review_cls.inference.predictor import load_predictor, predict_probabilities
from review_cls.inference.export_folder import export_model
from review_cls.jobs.train import run_training
from review_cls.models.e5_folder import write_transformers_folder
from tests.e5_files import tiny_e5_model
from tests.helpers import ZH_DEMO, tiny_train_cfg

TEXTS = ["送貨太慢了", "the app crashes", "介面很好用", "price"]


@pytest.fixture(scope="module")
def chinese_run(tmp_path_factory) -> Path:
    encoder = tmp_path_factory.mktemp("tiny_e5")
    write_transformers_folder(tiny_e5_model(), encoder)
    out = tmp_path_factory.mktemp("chinese_run")
    run_training(tiny_train_cfg(encoder, ZH_DEMO, out, "+experiment=chinese", "data.text_column=review",
                                "data.label_column=category", "trainer.max_epochs=1"))
    return out


def test_the_run_trains_the_mean_pooled_classifier_on_a_pruned_vocabulary_and_its_baseline(chinese_run):
    metrics = json.loads((chinese_run / "metrics.json").read_text())["metrics"]
    assert "test/f1_macro" in metrics and "baseline/test_f1_macro" in metrics
    checkpoint = torch.load(chinese_run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert checkpoint["hyper_parameters"]["backbone_config"]["classifier_pooling"] == "mean"
    _, tokenizer = load_classifier(chinese_run / "checkpoints" / "last.ckpt")
    assert type(tokenizer).__name__ == "XLMRobertaTokenizer"
    # model.prune_vocab: the English words the Chinese reviews never use are gone, one row per kept piece
    full = tiny_e5_model()
    kept = tokenizer.get_vocab()
    assert "▁crash" not in kept and {"慢", "用", "<s>", "<mask>"} <= set(kept)
    words = checkpoint["state_dict"]["model.bert.embeddings.word_embeddings.weight"].numpy()
    assert words.shape == (len(kept), 32) and len(kept) < len(full.pieces)
    # every weight trains, the kept pieces' rows included (they start as the pretrained rows: tests/unit/data)
    start = full.tensors["emb.word"].reshape(-1, 32)
    assert not np.allclose(words[kept["慢"]], start[full.pieces.index("慢")])
    assert not np.allclose(checkpoint["state_dict"]["model.bert.encoder.layer.1.output.dense.weight"].numpy(),
                           full.tensors["l1.fo.w"].reshape(32, 64))


def test_exports_predict_what_the_checkpoint_predicts(chinese_run, tmp_path):
    from review_cls.inference.onnx_runtime import load_onnx_predictor

    checkpoint = chinese_run / "checkpoints" / "last.ckpt"
    model, tokenizer = load_classifier(checkpoint)
    expected = predict_probabilities(model, tokenizer, TEXTS, model.hparams.max_length, 2)
    folder = export_model(checkpoint, tmp_path / "hf", export_format="onnx")
    np.testing.assert_allclose(load_predictor(folder, device="cpu").predict_probabilities(TEXTS, 2), expected, atol=1e-5)
    np.testing.assert_allclose(load_onnx_predictor(folder, threads=1).predict_probabilities(TEXTS, 2), expected,
                               atol=1e-5)
