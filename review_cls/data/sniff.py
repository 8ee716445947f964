"""Look at a table file's bytes to explain what the parser could not: byte-order marks, delimiters, bad bytes and lines."""

from __future__ import annotations

import codecs
import csv
import json
from pathlib import Path

BLOCK = 1 << 20
# UTF-32 first: its little-endian mark starts with UTF-16's
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 LE"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE"),
)
# delimiter -> (its name, how to pass it as a Hydra override: ',' and ';' must be quoted there)
DELIMITERS = {",": ("',' (comma)", "','"), ";": ("';' (semicolon)", "';'"), "\t": ("a tab", "tab"),
              "|": ("'|' (pipe)", "'|'")}
# what Excel and Parquet files start with: .xlsx/.xlsm are zip archives, .xls an OLE2 compound file
SIGNATURES = {".xlsx": b"PK\x03\x04", ".xlsm": b"PK\x03\x04", ".xls": b"\xd0\xcf\x11\xe0", ".parquet": b"PAR1",
              ".pq": b"PAR1"}


def byte_order_mark(path: Path) -> tuple[str, str] | None:
    """``(codec, name)`` when the file starts with a byte-order mark (Excel's "Unicode text" export is UTF-16)."""
    with open(path, "rb") as file:
        head = file.read(4)
    for mark, codec, name in BYTE_ORDER_MARKS:
        if head.startswith(mark):
            return codec, name
    return None


def first_undecodable_byte(path: Path, encoding: str) -> tuple[int, int] | None:
    """``(byte offset, line number)`` of the first byte ``encoding`` cannot decode, reading 1 MiB at a time.

    pandas reports positions inside its own read buffer (often "byte 0"), which does not help find the byte.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, lines = 0, 1
    with open(path, "rb") as file:
        while block := file.read(BLOCK):
            try:
                lines += decoder.decode(block).count("\n")
            except UnicodeDecodeError as exc:
                # exc.object is the decoder's carried-over bytes plus this block: it ends where the block ends
                before = exc.object[: exc.start]
                return offset + exc.start - (len(exc.object) - len(block)), lines + _newlines(before, encoding)
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return offset - len(exc.object) + exc.start, lines
    return None


def _newlines(data: bytes, encoding: str) -> int:
    return data.decode(encoding, errors="replace").count("\n")


def sniffed_delimiter(path: Path, encoding: str) -> str | None:
    """The delimiter :class:`csv.Sniffer` sees in the first 64 KiB (one of :data:`DELIMITERS`), or ``None``."""
    try:
        with open(path, encoding=encoding, errors="replace", newline="") as file:
            sample = file.read(1 << 16)
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except (csv.Error, OSError, LookupError):
        return None


def starts_like(path: Path) -> bool:
    """Whether the file starts with the signature its extension promises (always true for text formats)."""
    signature = SIGNATURES.get(path.suffix.lower())
    if signature is None:
        return True
    with open(path, "rb") as file:
        return file.read(len(signature)) == signature


def is_json_array(path: Path, encoding: str) -> bool:
    """Whether the first character that is not white space is ``[``: a JSON array, not JSON Lines."""
    with open(path, encoding=encoding, errors="replace") as file:
        while chunk := file.read(4096):
            text = chunk.lstrip()
            if text:
                return text.startswith("[")
    return False


def first_bad_json_line(path: Path, encoding: str) -> tuple[int, str, str] | None:
    """``(line number, reason, start of the line)`` of the first non-blank line that is not one JSON object."""
    with open(path, encoding=encoding, errors="replace") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                return number, f"{exc.msg} at column {exc.colno}", line.strip()[:80]
            if not isinstance(value, dict):
                return number, f"a JSON {type(value).__name__}, not an object", line.strip()[:80]
    return None
