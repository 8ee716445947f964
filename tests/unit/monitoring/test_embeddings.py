"""Sentence vectors from the classifier's own encoder: the mean of the last hidden states over the real tokens."""

from __future__ import annotations

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from review_cls.inference.predictor import LogitsOnly
from review_cls.monitoring.embeddings import encoder_of, mean_pooled, model_embedder


def test_mean_pooled_equals_the_masked_mean_of_each_text_alone(tiny_bert_dir):
    classifier = AutoModelForSequenceClassification.from_pretrained(tiny_bert_dir, num_labels=3).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    texts = ["the app crashes on login", "slow", "refund never came back to my card"]
    vectors = mean_pooled(LogitsOnly(classifier), tokenizer, texts, max_length=32, batch_size=2)
    assert vectors.shape == (3, 32)
    with torch.inference_mode():
        alone = classifier.base_model(**tokenizer(texts[1], return_tensors="pt")).last_hidden_state.mean(1)
    assert np.allclose(vectors[1], alone.numpy()[0], atol=1e-5)  # padding in its batch changed nothing
    assert encoder_of(LogitsOnly(classifier)) is classifier.base_model


def test_a_predictor_without_a_torch_model_has_no_embedder():
    class OnnxLike:
        labels, max_length = ["a"], 16

    assert model_embedder(OnnxLike()) is None


def test_a_blended_predictor_embeds_with_its_models_encoder(blended_checkpoint):
    from review_cls.inference.blended_predictor import BlendedPredictor
    from review_cls.inference.predictor import load_predictor

    shipped, alone = load_predictor(blended_checkpoint, device="cpu"), load_predictor(blended_checkpoint, blend=False)
    assert isinstance(shipped, BlendedPredictor)
    texts = ["the app crashes on login", "refund please"]
    np.testing.assert_allclose(model_embedder(shipped)(texts), model_embedder(alone)(texts), atol=1e-6)
