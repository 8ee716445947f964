"""Building the classifier from the model config: the architecture shapes a model trained from scratch, and a
tokenizer bigger than the embeddings needs one."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_cls.errors import ConfigError
from review_cls.models.factory import check_vocab_size
from tests.helpers import review_classifier


def test_a_bigger_tokenizer_needs_a_model_trained_from_scratch() -> None:
    with pytest.raises(ConfigError, match="from_scratch"):
        check_vocab_size(40000, 30522, from_scratch=False, pretrained="x")
    check_vocab_size(40000, 30522, from_scratch=True, pretrained="x")


def test_architecture_overrides_shape_a_model_trained_from_scratch(tiny_bert_dir: Path) -> None:
    shape = {"num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2, "intermediate_size": 32}
    model = review_classifier(["a", "b"], [0, 1], 32, str(tiny_bert_dir), from_scratch=True, vocab_size=50,
                              architecture=shape)
    encoder = model.model.config
    assert (encoder.num_hidden_layers, encoder.hidden_size, encoder.intermediate_size) == (1, 16, 32)
    assert model.model.get_input_embeddings().weight.shape == (50, 16)
    assert len(model.model.bert.encoder.layer) == 1
    assert model.hparams.backbone_config["hidden_size"] == 16  # saved, so the checkpoint rebuilds this shape
