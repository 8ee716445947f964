"""Vocabulary transfer (model=char_minilm): the pretrained body with new character embeddings, trained body-frozen
first, then fully."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModel

from review_cls.data.tokenizers import build_char_tokenizer
from review_cls.errors import ConfigError
from review_cls.models.pretrained import load_tokenizer
from review_cls.training.builders import build_datamodule, build_model, build_trainer
from tests.helpers import ZH_DEMO, review_classifier


def test_new_embeddings_keep_the_body_and_the_shared_tokens(tiny_bert_dir: Path) -> None:
    tokenizer = build_char_tokenizer(["物流很快 the app", "退款太慢 bug"], size=60)
    vocab = tokenizer.get_vocab()
    module = review_classifier(["a", "b"], [0, 1], 32, str(tiny_bert_dir), vocab_size=len(vocab),
                                     new_word_embeddings=True, token_vocab=vocab)
    pretrained = AutoModel.from_pretrained(tiny_bert_dir)
    old_vocab = load_tokenizer(str(tiny_bert_dir)).get_vocab()
    new_matrix = module.model.get_input_embeddings().weight
    old_matrix = pretrained.get_input_embeddings().weight

    assert new_matrix.shape == (len(vocab), old_matrix.shape[1])
    for token in ("[CLS]", "a", "##p"):  # in both vocabs (at other ids): the pretrained vector
        assert torch.equal(new_matrix[vocab[token]], old_matrix[old_vocab[token]])
    fresh = new_matrix[vocab["物"]]  # not in the old vocab: new, but of the old vectors' scale
    assert not any(torch.allclose(fresh, row) for row in old_matrix)
    assert torch.equal(module.model.bert.encoder.layer[1].output.dense.weight,
                       pretrained.encoder.layer[1].output.dense.weight)
    assert module.hparams.backbone_config["vocab_size"] == len(vocab)  # the checkpoint rebuilds this shape


def test_shared_tokens_are_copied_by_name_not_by_position() -> None:
    from torch import nn

    from review_cls.models.vocab_transfer import transplant_word_embeddings

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = nn.Embedding(3, 4)

        def get_input_embeddings(self) -> nn.Embedding:
            return self.embeddings

    old = torch.arange(8, dtype=torch.float32).reshape(2, 4)
    holder = Holder()
    copied = transplant_word_embeddings(holder, old, {"好": 0, "app": 1}, {"[PAD]": 0, "app": 1, "好": 2})
    assert copied == 2
    assert torch.equal(holder.embeddings.weight[2], old[0]) and torch.equal(holder.embeddings.weight[1], old[1])
    assert not torch.equal(holder.embeddings.weight[0], old[0])


def test_new_embeddings_cannot_go_with_from_scratch(compose_train_cfg) -> None:
    from review_cls.training.preflight import check_training_settings

    with pytest.raises(ConfigError, match="cannot go with model.from_scratch=true"):
        check_training_settings(compose_train_cfg("model.from_scratch=true", "model.new_word_embeddings=true"))


def test_frozen_body_epochs_train_embeddings_first_then_everything(compose_train_cfg) -> None:
    cfg = compose_train_cfg("+experiment=ablation/char_minilm", "data.tokenizer=char_vocab:300", "trainer.max_epochs=1",
                            "+trainer.limit_val_batches=0", "data.val_size=0.2", "data.test_size=0.2",
                            data_path=ZH_DEMO)
    datamodule = build_datamodule(cfg)
    model = build_model(cfg, datamodule)
    layer = model.model.bert.encoder.layer[0].attention.self.query.weight
    embeddings = model.model.get_input_embeddings().weight
    layer_before, embeddings_before = layer.detach().clone(), embeddings.detach().clone()

    build_trainer(cfg, [], []).fit(model, datamodule=datamodule)  # epoch 0: body frozen
    assert torch.equal(layer.detach(), layer_before)
    assert not torch.equal(embeddings.detach(), embeddings_before)
    assert {group["initial_lr"] for group in model.trainer.optimizers[0].param_groups} >= {cfg.model.embedding_lr, cfg.model.lr}

    cfg.trainer.max_epochs = 2
    build_trainer(cfg, [], []).fit(model, datamodule=datamodule)  # epoch 0 again, then epoch 1: everything trains
    assert not torch.equal(layer.detach(), layer_before)
