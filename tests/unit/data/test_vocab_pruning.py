"""model.prune_vocab: a pretrained tokenizer cut down to the pieces of the training texts, ids renumbered."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from transformers import AutoModel, PreTrainedTokenizerFast

from review_cls.data.tokenizers import tokenizer_files, tokenizer_from_files
from review_cls.data.vocab_pruning import is_single_character, prune_to_seen
from review_cls.errors import ConfigError
from review_cls.inference.checkpoints import load_classifier
from review_cls.inference.export_folder import export_model
from review_cls.inference.predictor import load_predictor, predict_probabilities
from review_cls.jobs.train import run_training
from review_cls.models.e5_folder import write_transformers_folder
from review_cls.models.pretrained import load_tokenizer
from review_cls.training.builders import build_datamodule
from review_cls.training.preflight import check_training_settings
from tests.e5_files import tiny_e5_model
from tests.helpers import ZH_DEMO, review_classifier

ENGLISH = ["the app is slow", "love the new price", "it crashes on login"]


@pytest.fixture(scope="module")
def unigram_dir(tmp_path_factory) -> Path:
    """The tiny e5-layout encoder: XLM-R's kind of tokenizer (SentencePiece unigram) over a few dozen pieces."""
    folder = tmp_path_factory.mktemp("tiny_e5")
    write_transformers_folder(tiny_e5_model(), folder)
    return folder


def pieces(tokenizer, texts: list[str]) -> list[list[str]]:
    return [tokenizer.convert_ids_to_tokens(ids) for ids in tokenizer(texts)["input_ids"]]


def test_wordpiece_keeps_the_training_pieces_and_every_character(tiny_bert_dir: Path) -> None:
    full = load_tokenizer(str(tiny_bert_dir))
    pruned = prune_to_seen(full, ENGLISH)

    assert len(pruned) < len(full)
    assert sorted(pruned.get_vocab().values()) == list(range(len(pruned)))  # renumbered without gaps
    assert pieces(pruned, ENGLISH) == pieces(full, ENGLISH)  # [CLS] ... [SEP] included, at their new ids
    for token in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"):
        assert pruned.convert_ids_to_tokens(pruned.convert_tokens_to_ids(token)) == token
    assert all(piece in pruned.get_vocab() for piece in full.get_vocab() if is_single_character(piece))
    # a word the training texts never used is spelled out in kept pieces, not lost to [UNK]
    assert "[UNK]" not in pruned.tokenize("refund")
    assert "".join(piece.removeprefix("##") for piece in pruned.tokenize("refund")) == "refund"


def test_unigram_keeps_the_training_segmentation_and_renumbers_the_special_tokens(unigram_dir: Path) -> None:
    full = load_tokenizer(str(unigram_dir))
    texts = pd.read_csv(ZH_DEMO)["review"].astype(str).tolist()
    train, new = texts[:150], [*texts[150:], "the app crashes", "送貨太慢了"]
    pruned = prune_to_seen(full, train)

    assert "▁crash" in full.get_vocab() and "▁crash" not in pruned.get_vocab()
    assert pieces(pruned, train) == pieces(full, train)
    ids = pruned("送貨太慢了")["input_ids"]
    assert pruned.convert_ids_to_tokens([ids[0], ids[-1]]) == ["<s>", "</s>"]
    assert pruned.pad_token == "<pad>" and pruned.convert_ids_to_tokens(pruned.pad_token_id) == "<pad>"
    # dropped pieces are re-segmented into kept ones: no more <unk> than the full vocab gives
    unknown = [sum(i == tok.unk_token_id for row in tok(new)["input_ids"] for i in row) for tok in (full, pruned)]
    assert unknown[1] == unknown[0]
    assert "".join(pruned.tokenize("the app crashes")).replace("▁", " ").strip() == "the app crashes"


def test_the_pruned_tokenizer_survives_the_checkpoint_round_trip(unigram_dir: Path) -> None:
    pruned = prune_to_seen(load_tokenizer(str(unigram_dir)), ["介面很好用", "太慢了"])
    rebuilt = tokenizer_from_files(tokenizer_files(pruned))
    assert rebuilt.get_vocab() == pruned.get_vocab()
    assert rebuilt("送貨太慢了")["input_ids"] == pruned("送貨太慢了")["input_ids"]


def test_the_model_starts_from_each_kept_pieces_pretrained_row(tiny_bert_dir: Path) -> None:
    full = load_tokenizer(str(tiny_bert_dir))
    vocab = prune_to_seen(full, ENGLISH).get_vocab()
    module = review_classifier(["a", "b"], [0, 1], 32, str(tiny_bert_dir), vocab_size=len(vocab),
                               token_vocab=vocab, prune_vocab=True)
    pretrained = AutoModel.from_pretrained(tiny_bert_dir).get_input_embeddings().weight
    rows = module.model.get_input_embeddings().weight
    assert rows.shape == (len(vocab), pretrained.shape[1])
    old = full.get_vocab()
    assert all(torch.equal(rows[new_id], pretrained[old[piece]]) for piece, new_id in vocab.items())
    assert module.hparams.backbone_config["vocab_size"] == len(vocab)  # what a checkpoint rebuilds


def test_a_tokenizer_of_another_kind_is_refused_by_name() -> None:
    from tokenizers import Tokenizer, models

    bpe = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.BPE(vocab={"a": 0, "b": 1}, merges=[])))
    with pytest.raises(ConfigError, match="model.prune_vocab=false"):
        prune_to_seen(bpe, ["ab"])


@pytest.mark.parametrize(("piece", "single"), [("a", True), ("▁a", True), ("##a", True), ("▁", True),
                                               ("ab", False), ("▁ab", False), ("##ab", False)])
def test_single_characters_count_with_or_without_their_marks(piece: str, single: bool) -> None:
    assert is_single_character(piece) is single


@pytest.mark.parametrize(("overrides", "message"), [
    (["model.prune_vocab=true", "model.from_scratch=true"], "cannot go with model.from_scratch=true"),
    (["model.prune_vocab=true", "data.tokenizer=char_vocab:300"], "builds a vocab of its own"),
])
def test_pruning_a_vocab_the_run_builds_itself_is_refused(compose_train_cfg, overrides, message) -> None:
    with pytest.raises(ConfigError, match=message):
        check_training_settings(compose_train_cfg(*overrides))


def test_an_english_run_trains_predicts_and_exports_on_the_pruned_vocab(compose_train_cfg, tmp_path) -> None:
    cfg = compose_train_cfg("model.prune_vocab=true", "trainer.max_epochs=1")
    assert cfg.data.prune_vocab is True  # the data group reads the model's setting
    datamodule = build_datamodule(cfg)
    assert len(datamodule.tokenizer) < len(load_tokenizer(cfg.model.pretrained))
    run_training(cfg)
    checkpoint = next(Path(cfg.paths.output_dir).rglob("last.ckpt"))
    model, tokenizer = load_classifier(checkpoint)
    assert model.model.get_input_embeddings().weight.shape[0] == len(tokenizer) == len(datamodule.tokenizer)
    texts = ["the app crashes after the update", "refund please"]
    expected = predict_probabilities(model, tokenizer, texts, model.hparams.max_length, 2)
    folder = export_model(checkpoint, tmp_path / "export")
    assert torch.allclose(torch.as_tensor(load_predictor(folder, device="cpu").predict_probabilities(texts, 2)),
                          torch.as_tensor(expected), atol=1e-5)
