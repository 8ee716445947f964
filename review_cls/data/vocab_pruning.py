"""Prune a pretrained tokenizer to the pieces the training split uses (``model.prune_vocab=true``).

multilingual-e5-small carries XLM-R's 250,002 pieces for ~100 languages; a set of Chinese reviews uses a few
thousand. The 250k x 384 word-embedding matrix is 96M of the encoder's 118M parameters: pruned, the model trains every
weight at the cost of frozen embeddings, and its checkpoints and exports shrink to a third.

Kept: every piece the training texts tokenize into, every single-character piece (and the word-start marker), and the
special tokens, in their original order. On the training texts the pruned tokenizer gives the same pieces as the full
one (the best Unigram segmentation, or WordPiece's longest matches, used only kept pieces); new text whose pieces were
dropped is re-segmented into kept ones, and since every single character is kept it meets ``<unk>`` only where the
full vocab did too. The model copies each kept piece's pretrained row (models/vocab_transfer.py), and the pruned
tokenizer travels in the checkpoint and the export like any other.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

from transformers import AutoTokenizer, PreTrainedTokenizerBase

from review_cls.errors import ConfigError

log = logging.getLogger(__name__)
# SentencePiece's word-start marker and WordPiece's continuation prefix: a piece is one character without them
PIECE_MARKS = ("▁", "##")


def prune_to_seen(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> PreTrainedTokenizerBase:
    """``tokenizer`` restricted to the pieces of ``texts``, single characters and special tokens (ids renumbered)."""
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    pieces = piece_list(spec["model"])
    encoded = tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
    seen = {piece_id for ids in encoded for piece_id in ids}
    special = {token["id"] for token in spec["added_tokens"]}
    kept = sorted(seen | special | {i for i, piece in enumerate(pieces) if is_single_character(piece)})
    log.info("model.prune_vocab: %d of %d pieces kept (%d used by the training texts, the rest single characters "
             "and special tokens).", len(kept), len(pieces), len(seen))
    return rebuilt(tokenizer, renumbered(spec, kept))


def piece_list(model: dict) -> list[str]:
    """The pieces in id order of a Unigram (list of [piece, score]) or WordPiece (piece -> id) model."""
    if model["type"] == "Unigram":
        return [piece for piece, _ in model["vocab"]]
    if model["type"] == "WordPiece":
        return sorted(model["vocab"], key=model["vocab"].get)
    raise ConfigError(f"model.prune_vocab=true prunes Unigram (SentencePiece) and WordPiece tokenizers; this one is "
                      f"{model['type']}: set model.prune_vocab=false.")


def is_single_character(piece: str) -> bool:
    """One character, once a word-start or continuation mark is taken off (the bare marker counts too)."""
    for mark in PIECE_MARKS:
        if piece.startswith(mark) and piece != mark:
            piece = piece[len(mark):]
    return len(piece) == 1


def renumbered(spec: dict, kept: list[int]) -> dict:
    """The tokenizer.json ``spec`` keeping only the ids in ``kept`` (sorted), every id reference mapped to its new id."""
    new_id = {old: new for new, old in enumerate(kept)}
    model = spec["model"]
    if model["type"] == "Unigram":
        model["vocab"] = [model["vocab"][old] for old in kept]
        model["unk_id"] = None if model.get("unk_id") is None else new_id[model["unk_id"]]
    else:
        pieces = piece_list(model)
        model["vocab"] = {pieces[old]: new for new, old in enumerate(kept)}
    for token in spec["added_tokens"]:
        token["id"] = new_id[token["id"]]
    processor = spec.get("post_processor") or {}
    for processors in [processor, *processor.get("processors", [])]:
        for special in processors.get("special_tokens", {}).values():
            special["ids"] = [new_id[old] for old in special["ids"]]
        for key in ("cls", "sep"):  # BertProcessing / RobertaProcessing keep [token, id] pairs
            if key in processors:
                processors[key][1] = new_id[processors[key][1]]
    return spec


def rebuilt(tokenizer: PreTrainedTokenizerBase, spec: dict) -> PreTrainedTokenizerBase:
    """The same tokenizer class and settings, reading the pruned ``spec``."""
    with tempfile.TemporaryDirectory() as folder:
        tokenizer.save_pretrained(folder)
        for stale in Path(folder).iterdir():  # a slow vocab file would rebuild the full vocab
            if stale.name not in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
                stale.unlink()
        (Path(folder) / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        return AutoTokenizer.from_pretrained(folder, use_fast=True, trust_remote_code=False)
