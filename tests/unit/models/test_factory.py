"""Building the classifier from the model config: shape checks, vocab size, max_length against the encoder."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_cls.errors import ConfigError
from review_cls.models.factory import build_review_classifier, check_vocab_size


def test_max_length_above_the_model_limit_is_refused(tiny_bert_dir):
    with pytest.raises(ConfigError, match="max_length=512"):
        build_review_classifier(["a", "b"], [0, 1], 512, str(tiny_bert_dir))


def test_a_bigger_tokenizer_needs_a_model_trained_from_scratch() -> None:
    with pytest.raises(ConfigError, match="from_scratch"):
        check_vocab_size(40000, 30522, from_scratch=False, pretrained="x")
    check_vocab_size(40000, 30522, from_scratch=True, pretrained="x")


def test_architecture_overrides_shape_a_model_trained_from_scratch(tiny_bert_dir: Path) -> None:
    from review_cls.models.factory import build_review_classifier

    shape = {"num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2, "intermediate_size": 32}
    model = build_review_classifier(["a", "b"], [0, 1], 32, str(tiny_bert_dir), from_scratch=True, vocab_size=50,
                                    architecture=shape)
    encoder = model.model.config
    assert (encoder.num_hidden_layers, encoder.hidden_size, encoder.intermediate_size) == (1, 16, 32)
    assert model.model.get_input_embeddings().weight.shape == (50, 16)
    assert len(model.model.bert.encoder.layer) == 1
    assert model.hparams.backbone_config["hidden_size"] == 16  # saved, so the checkpoint rebuilds this shape


@pytest.mark.parametrize(
    ("shape", "from_scratch", "message"),
    [
        ({"num_hidden_layers": 1}, False, "from_scratch=true"),
        ({"num_layers": 1}, True, "num_layers"),
        ({"hidden_size": 30, "num_attention_heads": 4}, True, "multiple of num_attention_heads"),
    ],
)
def test_bad_architecture_is_a_config_error(tiny_bert_dir: Path, shape, from_scratch: bool, message: str) -> None:
    from review_cls.models.factory import build_review_classifier

    with pytest.raises(ConfigError, match=message):
        build_review_classifier(["a", "b"], [0, 1], 32, str(tiny_bert_dir), from_scratch=from_scratch,
                                architecture=shape)
