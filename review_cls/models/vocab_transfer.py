"""Vocabulary transfer (Artetxe et al. 2020): keep a pretrained transformer body, give it a new word-embedding matrix.

The packaged MiniLM reads English wordpieces only, but its layers still know how to combine token vectors into a
sentence meaning. With ``model.new_word_embeddings=true`` the body is loaded as usual and the word embeddings are
rebuilt for the run's own tokenizer (e.g. ``data.tokenizer=char_vocab:6000`` for Chinese): tokens the old vocab also
has keep their pretrained vectors, the rest start from the old matrix's per-dimension mean and spread, so the body
sees inputs of the scale it was trained on. ``model.frozen_body_epochs`` then trains the new embeddings (and the
head) with the body fixed before everything is fine-tuned.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from transformers import AutoModel, PreTrainedModel

from review_cls.models.pretrained import load_tokenizer, resolve_pretrained


def pretrained_word_embeddings(name: str) -> tuple[torch.Tensor, dict[str, int]]:
    """The pretrained encoder's word-embedding matrix and the vocab that indexes it."""
    encoder = AutoModel.from_pretrained(resolve_pretrained(name), trust_remote_code=False)
    return encoder.get_input_embeddings().weight.detach().clone(), load_tokenizer(name).get_vocab()


@torch.no_grad()
def transplant_word_embeddings(
    model: PreTrainedModel, old_matrix: torch.Tensor, old_vocab: Mapping[str, int], new_vocab: Mapping[str, int],
    seed: int = 0,
) -> int:
    """Fill ``model``'s (already resized) word embeddings for ``new_vocab``; returns how many rows were copied."""
    matrix = model.get_input_embeddings().weight
    generator = torch.Generator().manual_seed(seed)
    fresh = torch.randn(matrix.shape, generator=generator) * old_matrix.std(dim=0) + old_matrix.mean(dim=0)
    shared = [(new_id, old_vocab[token]) for token, new_id in new_vocab.items() if token in old_vocab]
    if shared:
        new_ids, old_ids = map(torch.tensor, zip(*shared))
        fresh[new_ids] = old_matrix[old_ids]
    matrix.copy_(fresh.to(matrix.dtype))
    return len(shared)


def set_body_trainable(model: PreTrainedModel, trainable: bool) -> None:
    """Freeze or unfreeze the transformer layers; embeddings, pooler and classification head always train."""
    model.base_model.encoder.requires_grad_(trainable)
