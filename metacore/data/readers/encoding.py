"""The bytes of an upload: how big, text or not, which encoding, which line endings.

Oversized input is refused before it is read where the source says its size; decoding tries
UTF-8 first and falls back to GB18030 or Latin-1/Windows-1252, saying so in a finding.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
from pathlib import Path
from typing import BinaryIO

from metacore.data.findings import Finding, error
from metacore.data.limits import Limits
from metacore.messages import Message, msg

# Bytes that never occur in real text files (tab, newlines and form feed excluded).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13))
SNIFF_CHARS = 64 * 1024


def human_size(n_bytes: int) -> Message:
    """``3.0 MB``, ``1.5 KB`` or ``512 bytes``, as a term an interface words itself."""
    if n_bytes >= 1024**2:
        return msg("term.size.mb", n=n_bytes / 1024**2)
    if n_bytes >= 1024:
        return msg("term.size.kb", n=n_bytes / 1024)
    return msg("term.size.bytes", n=n_bytes)


def too_large(size: int, limits: Limits) -> Finding:
    return error("file_too_large", size=human_size(size), limit=human_size(limits.max_file_bytes))


def empty_file() -> Finding:
    return error("file_empty")


def source_name(source: object, filename: str | None) -> str:
    """Pick the file name used for messages and extension checks."""
    if filename:
        return os.path.basename(filename)
    if isinstance(source, (str, Path)):
        return Path(source).name
    name = getattr(source, "name", None)
    return os.path.basename(name) if isinstance(name, str) else "upload"


def _stream_size(stream: BinaryIO) -> int | None:
    """Size of an upload without reading it (Streamlit uploads have .size)."""
    size = getattr(stream, "size", None)
    if isinstance(size, int):
        return size
    try:
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return end - here
    except (AttributeError, OSError, ValueError):
        return None


def read_bytes(
    source: str | Path | bytes | BinaryIO, limits: Limits
) -> tuple[bytes | None, Finding | None]:
    """Read the raw bytes, refusing oversized input before reading it when possible.

    Raises:
        FileNotFoundError: If a path is given that does not exist.
        TypeError: If ``source`` is of an unsupported type.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        if len(raw) > limits.max_file_bytes:
            return None, too_large(len(raw), limits)
        return raw, None
    if isinstance(source, (str, Path)):
        path = Path(source)
        info = path.stat()
        if info.st_size > limits.max_file_bytes:
            return None, too_large(info.st_size, limits)
        if stat.S_ISREG(info.st_mode):
            return path.read_bytes(), None
        # A device, a pipe or a FIFO says nothing true about its size (/dev/zero says 0 and
        # never ends): read one byte past the limit, like a stream.
        with path.open("rb") as stream:
            return _bounded_read(stream, limits)
    if not hasattr(source, "read"):
        raise TypeError(f"source must be a path, bytes or a binary file object, not {type(source)}")
    size = _stream_size(source)
    if size is not None and size > limits.max_file_bytes:
        return None, too_large(size, limits)
    return _bounded_read(source, limits)


def _bounded_read(source: BinaryIO, limits: Limits) -> tuple[bytes | None, Finding | None]:
    """Read one byte past the limit so streams without a known size are still bounded."""
    data = source.read(limits.max_file_bytes + 1)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > limits.max_file_bytes:
        return None, error("file_too_large", "unknown", limit=human_size(limits.max_file_bytes))
    return raw, None


def looks_binary(raw: bytes) -> bool:
    """True for images, archives and other non-text bytes.

    A NUL byte at the start, or control bytes making up more than 5% of the start or of the
    whole file (text followed by a binary blob). A stray NUL further on is left to the
    validation, which removes it from the text and names its row.
    """
    head = raw[:8192]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    for part in (head, raw) if len(raw) > len(head) else (head,):
        n_control = len(part) - len(part.translate(None, _CONTROL_BYTES))
        if n_control > 0.05 * len(part):
            return True
    return False


def _gb2312_share(raw: bytes) -> float:
    """Share of multi-byte characters whose bytes are both in the GB2312 range.

    Real Chinese GBK text almost only uses GB2312 pairs (both bytes 0xA1-0xFE),
    while Latin-1 text that happens to decode as GB18030 pairs an accented letter
    with a plain ASCII letter, so this separates the two without a detector.
    """
    sample, i, pairs, gb_pairs = raw[:SNIFF_CHARS], 0, 0, 0
    while i < len(sample) - 1:
        first = sample[i]
        if first < 0x80:
            i += 1
            continue
        second = sample[i + 1]
        pairs += 1
        gb_pairs += 0xA1 <= first <= 0xFE and 0xA1 <= second <= 0xFE
        i += 4 if 0x30 <= second <= 0x39 else 2
    return gb_pairs / pairs if pairs else 0.0


def _encoding_note(term: str) -> Finding:
    """Read as ``term.encoding.<term>`` because the file is not UTF-8."""
    return Finding("info", "encoding_detected", {"encoding": msg(f"term.encoding.{term}")})


def decode(raw: bytes) -> tuple[str, str, list[Finding]]:
    """Decode bytes, trying UTF-8 first and falling back to GB18030 or Latin-1."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        note = Finding("info", "encoding_detected", msg("finding.encoding_detected-utf16"))
        return raw.decode("utf-16", errors="replace"), "utf-16", [note]
    encoding = "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        return raw.decode(encoding), encoding, []
    except UnicodeDecodeError:
        pass
    text = raw.decode(encoding, errors="replace")
    n_bad = text.count("\ufffd")
    n_valid = sum(1 for ch in text[: SNIFF_CHARS * 4] if ord(ch) > 127) - n_bad
    # A few stray bytes among many valid UTF-8 characters: keep UTF-8, replace them.
    # Without any valid multi-byte character the file is more likely Latin-1 or GBK.
    if encoding == "utf-8-sig" or (n_valid > 0 and n_bad <= max(2, n_valid // 20)):
        return text, encoding, [Finding("warning", "undecodable_bytes", {"n": n_bad}, (), n_bad)]
    if _gb2312_share(raw) >= 0.8:
        try:
            text = raw.decode("gb18030")
            return text, "gb18030", [_encoding_note("gb18030")]
        except UnicodeDecodeError:
            pass
    try:
        text = raw.decode("cp1252")
        # cp1252 and Latin-1 only differ in bytes 0x80-0x9F; name the simpler one if unused.
        uses_cp1252 = any(0x80 <= b <= 0x9F for b in raw)
        encoding = "cp1252" if uses_cp1252 else "latin-1"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "latin-1"
    return text, encoding, [_encoding_note("cp1252" if encoding == "cp1252" else "latin1")]


def normalise_newlines(text: str) -> tuple[str, list[Finding]]:
    """Turn \\r\\n and lone \\r into \\n, noting when a file really mixes styles.

    A style must make up at least 1% of the line breaks to count: files written by
    Python's csv module end records with \\r\\n but keep \\n inside quoted texts,
    and that is normal, not worth a remark.
    """
    crlf = text.count("\r\n")
    counts = (crlf, text.count("\r") - crlf, text.count("\n") - crlf)
    if counts[0] or counts[1]:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    total = sum(counts)
    if sum(1 for n in counts if n and n >= 0.01 * total) < 2:
        return text, []
    return text, [Finding("info", "mixed_newlines")]
