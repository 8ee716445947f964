"""Tokenizers: the encoder's own (loaded offline), one carried inside a checkpoint, or a character-level BERT
tokenizer built from the training split for languages without a packaged vocab.

``data.tokenizer=char_vocab:6000`` keeps the 6,000 most frequent characters of the training texts. BERT's basic
tokenizer already splits CJK text into single characters; Latin letters and digits also get ``##`` continuation
pieces so mixed-script reviews ("iPhone 很好用") tokenize into characters instead of ``[UNK]``.
"""

from __future__ import annotations

import string
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from transformers import AutoTokenizer, BertTokenizer, PreTrainedTokenizerBase

from review_cls.errors import ConfigError
from review_cls.models.pretrained import load_tokenizer

CHAR_VOCAB_PREFIX = "char_vocab:"
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
CONTINUED = string.ascii_lowercase + string.digits


def tokenizer_files(tokenizer: PreTrainedTokenizerBase) -> dict[str, str]:
    """The tokenizer's files as text, so a checkpoint carries its own tokenizer (plain strings, weights_only-safe)."""
    with tempfile.TemporaryDirectory() as folder:
        tokenizer.save_pretrained(folder)
        return {path.name: path.read_text(encoding="utf-8") for path in Path(folder).iterdir() if path.is_file()}


def tokenizer_from_files(files: dict[str, str]) -> PreTrainedTokenizerBase:
    """Rebuild a tokenizer saved with :func:`tokenizer_files`."""
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            (Path(folder) / name).write_text(text, encoding="utf-8")
        return AutoTokenizer.from_pretrained(folder, use_fast=True, trust_remote_code=False)


def tokenizer_for(source: str, training_texts: Sequence[str]) -> PreTrainedTokenizerBase:
    """``char_vocab:N`` -> a character vocab built from the training texts; a model name or folder -> its tokenizer."""
    size = char_vocab_size(source)
    return build_char_tokenizer(training_texts, size) if size else load_tokenizer(source)


def char_vocab_size(source: object) -> int | None:
    """``char_vocab:N`` -> N; anything else (a model name or folder) -> None."""
    if not isinstance(source, str) or not source.startswith(CHAR_VOCAB_PREFIX):
        return None
    size = source[len(CHAR_VOCAB_PREFIX):]
    if not size.isdigit() or int(size) <= len(SPECIAL_TOKENS) + len(CONTINUED):
        raise ConfigError(f"data.tokenizer='{source}': write char_vocab:N with N a number above "
                          f"{len(SPECIAL_TOKENS) + len(CONTINUED)} (e.g. char_vocab:6000).")
    return int(size)


def char_vocabulary(texts: Iterable[str], size: int) -> list[str]:
    """Special tokens, ``##`` pieces for Latin letters and digits, then the most frequent characters (ties by code
    point, so the vocab depends only on the texts)."""
    counts = Counter(char for text in texts for char in text.lower() if not char.isspace())
    fixed = [*SPECIAL_TOKENS, *(f"##{char}" for char in CONTINUED)]
    room = size - len(fixed)
    frequent = sorted(counts, key=lambda char: (-counts[char], char))[:room]
    return fixed + frequent


def build_char_tokenizer(texts: Iterable[str], size: int, model_max_length: int = 512) -> PreTrainedTokenizerBase:
    """A fast WordPiece tokenizer over the training split's most frequent characters."""
    vocab = {token: i for i, token in enumerate(char_vocabulary(texts, size))}
    return BertTokenizer(vocab=vocab, do_lower_case=True, tokenize_chinese_chars=True,
                         model_max_length=model_max_length)
