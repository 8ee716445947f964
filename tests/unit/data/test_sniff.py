"""What the table-file sniffer reports about raw bytes: byte-order marks, the first bad byte, delimiters, signatures
and JSON Lines."""

from __future__ import annotations

import codecs

import pytest

from review_cls.data import sniff


def written(path, data: bytes):
    path.write_bytes(data)
    return path


def test_byte_order_marks_name_the_encoding_and_utf32_is_not_taken_for_utf16(tmp_path):
    text = "review,label\n"
    assert sniff.byte_order_mark(written(tmp_path / "a.csv", text.encode("utf-16"))) == ("utf-16", "UTF-16 LE")
    assert sniff.byte_order_mark(written(tmp_path / "b.csv", codecs.BOM_UTF32_LE + text.encode("utf-32-le"))) == \
        ("utf-32", "UTF-32 LE")
    assert sniff.byte_order_mark(written(tmp_path / "c.csv", codecs.BOM_UTF8 + text.encode())) == ("utf-8-sig", "UTF-8")
    assert sniff.byte_order_mark(written(tmp_path / "d.csv", text.encode())) is None


@pytest.mark.parametrize("block", [1 << 20, 3])
def test_the_first_undecodable_byte_is_found_by_file_offset_and_line_across_read_blocks(tmp_path, monkeypatch, block):
    monkeypatch.setattr(sniff, "BLOCK", block)
    data = "a\né ok\nfine\n".encode() + b"caf\xe9\nmore\n"
    assert sniff.first_undecodable_byte(written(tmp_path / "latin.csv", data), "utf-8") == (data.index(b"\xe9"), 4)
    # a multi-byte sequence cut by a wrong byte: the offset is that of the sequence's first byte
    cut = b"ab\xc3(x\n"
    assert sniff.first_undecodable_byte(written(tmp_path / "cut.csv", cut), "utf-8") == (2, 1)
    truncated = "ok\n".encode() + "é".encode()[:1]
    assert sniff.first_undecodable_byte(written(tmp_path / "end.csv", truncated), "utf-8") == (3, 2)
    assert sniff.first_undecodable_byte(written(tmp_path / "good.csv", "é\n".encode() * 5), "utf-8") is None


def test_the_sniffed_delimiter_is_one_the_reader_knows(tmp_path):
    semicolons = written(tmp_path / "semi.csv", b"review;label\nslow app;bug\nlate parcel;delivery\n")
    tabs = written(tmp_path / "tabs.txt", b"review\tlabel\nslow app\tbug\nlate parcel\tdelivery\n")
    assert sniff.sniffed_delimiter(semicolons, "utf-8") == ";"
    assert sniff.sniffed_delimiter(tabs, "utf-8") == "\t"
    assert sniff.sniffed_delimiter(tmp_path / "missing.csv", "utf-8") is None


def test_a_binary_format_must_start_with_its_signature_and_text_formats_always_pass(tmp_path):
    assert sniff.starts_like(written(tmp_path / "real.xlsx", b"PK\x03\x04rest of the zip"))
    assert not sniff.starts_like(written(tmp_path / "renamed.xlsx", b"review,label\n"))
    assert not sniff.starts_like(written(tmp_path / "renamed.PARQUET", b"review,label\n"))
    assert sniff.starts_like(written(tmp_path / "plain.csv", b"\x00\x01 anything"))


def test_json_arrays_and_the_first_line_that_is_not_one_json_object(tmp_path):
    assert sniff.is_json_array(written(tmp_path / "array.json", b"\n   \n  [{\"text\": \"a\"}]"), "utf-8")
    assert not sniff.is_json_array(written(tmp_path / "lines.jsonl", b"{\"text\": \"a\"}\n"), "utf-8")
    assert not sniff.is_json_array(written(tmp_path / "blank.jsonl", b"  \n\n"), "utf-8")
    lines = b'{"text": "a"}\n\n{"text": "b"}\n[1, 2]\n{"text": \n'
    assert sniff.first_bad_json_line(written(tmp_path / "list.jsonl", lines), "utf-8") == \
        (4, "a JSON list, not an object", "[1, 2]")
    broken = b'{"text": "a"}\n{"text": \n'
    number, reason, start = sniff.first_bad_json_line(written(tmp_path / "broken.jsonl", broken), "utf-8")
    assert (number, start) == (2, '{"text":')
    assert "column" in reason
    assert sniff.first_bad_json_line(written(tmp_path / "good.jsonl", b'{"a": 1}\n\n{"b": 2}\n'), "utf-8") is None
