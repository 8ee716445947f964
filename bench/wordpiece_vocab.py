"""Diagnostic: a WordPiece vocab learned from a run's training split, with runs of CJK characters kept whole
so that pieces can span several characters (words and bigrams, the features TF-IDF's character n-grams see), written
as a BERT tokenizer folder that ``data.tokenizer=<folder>`` trains with in place of ``char_vocab:N``.

    python -m bench.wordpiece_vocab --size 16000 --out bench/results/wp16k data=shopping_zh \
        data.path=bench/results/cost_work/shopping_8000.csv data.split_file=<run>/split.json
    python -m review_cls.train <the same data overrides> +experiment=char_bert data.tokenizer=bench/results/wp16k

Only the training split's texts are read, never validation or test. Result (docs/benchmarks/chinese.md): no gain
over the character vocab, so it is not a built-in tokenizer choice.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertTokenizerFast

from bench.label_efficiency import base_splits
from review_cls.data.tokenizers import SPECIAL_TOKENS


def wordpiece_tokenizer(texts: list[str], size: int) -> BertTokenizerFast:
    """WordPiece trained on ``texts``; CJK characters are not split apart first, so a clause becomes one 'word'."""
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=1000))
    tokenizer.normalizer = normalizers.BertNormalizer(handle_chinese_chars=False, strip_accents=False, lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.train_from_iterator(texts, trainers.WordPieceTrainer(
        vocab_size=size, special_tokens=list(SPECIAL_TOKENS), min_frequency=2, limit_alphabet=size))
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return BertTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                             sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=16000, help="vocab size, special tokens included")
    parser.add_argument("--seed", type=int, default=42, help="the run's seed (it picks the split)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("overrides", nargs="*", help="the training run's data overrides")
    args = parser.parse_args()
    texts = base_splits(args.overrides, args.seed)["train"].texts
    tokenizer = wordpiece_tokenizer(texts, args.size)
    tokenizer.save_pretrained(args.out)
    pieces = [len(tokenizer.tokenize(text)) for text in texts]
    print(f"{len(tokenizer)} pieces -> {args.out}; a training review is {np.median(pieces):.0f} pieces "
          f"(median; {np.median([len(text) for text in texts]):.0f} characters)")


if __name__ == "__main__":
    main()
