"""What every format reader yields, and the guarded decompression they all read through."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

import orjson

from connector.gzip_codec import CORRUPT_GZIP, gunzipper
from connector.sinks.base import DeadLetter

GZIP_MAGIC = b"\x1f\x8b"
READ_SIZE = 256 * 1024
OUTPUT_STEP = 1024 * 1024
# A decompression bomb expands thousands of times; real AWS logs compress 5-30x.
MAX_EXPANSION_RATIO = 400
EXPANSION_CHECK_AFTER = 64 * 1024 * 1024


@dataclass(slots=True)
class RawBatch:
    """A run of raw records from one object, all of one dataset (and, for flow logs, one layout).

    ``locations[i]`` is the 1-based line (or record index) of record i in its object; together
    with the object it makes the record's deterministic id.
    """

    dataset: str
    records: list[Any] = field(default_factory=list)
    locations: list[int] = field(default_factory=list)
    originals: list[str | None] | None = None
    layout: tuple[str, ...] = ()
    clean: bool = False  # text records known to need no JSON escaping (checked per block)


@dataclass(frozen=True, slots=True)
class Skipped:
    """Records or whole objects left out on purpose, by a named rule."""

    rule: str
    count: int = 1
    origin: str = ""


Parsed = RawBatch | Skipped | DeadLetter


class DecompressionBomb(ValueError):
    """Raised when an object expands far beyond what real logs do."""


class TruncatedPayload(EOFError):
    """Raised after the last readable bytes of a gzip stream that ends early."""


def payload_chunks(raw: IO[bytes]) -> Iterator[bytes]:
    """Yield the object's bytes, gunzipped when the magic bytes say gzip.

    Everything that can be decompressed is yielded before a truncation or corruption is
    raised, so the records before the damage still flow. Concatenated gzip members (as
    written by some log shippers) are read one after another.
    """
    first = raw.read(READ_SIZE)
    if not first.startswith(GZIP_MAGIC):
        while first:
            yield first
            first = raw.read(READ_SIZE)
        return
    decomp = gunzipper()
    consumed = produced = 0
    member_open = False
    chunk = first
    while chunk:
        consumed += len(chunk)
        while chunk:
            member_open = True
            # Bounded output per call: a bomb is noticed after a megabyte, not after a gigabyte.
            out = decomp.decompress(chunk, OUTPUT_STEP)
            chunk = decomp.unconsumed_tail
            if out:
                produced += len(out)
                if produced > EXPANSION_CHECK_AFTER and produced / consumed > MAX_EXPANSION_RATIO:
                    raise DecompressionBomb(
                        f"decompressed {produced} bytes from {consumed} (ratio over {MAX_EXPANSION_RATIO}:1)"
                    )
                yield out
            if decomp.eof:
                member_open = False
                chunk = decomp.unused_data
                decomp = gunzipper()
                if chunk and not chunk.startswith(GZIP_MAGIC):
                    if chunk.strip(b"\x00"):
                        raise zlib.error("trailing garbage after the gzip stream")
                    chunk = b""
        chunk = raw.read(READ_SIZE)
    if member_open:
        tail = decomp.flush()
        if tail:
            yield tail
        raise TruncatedPayload("the object ended before the gzip end-of-stream marker")


READ_ERRORS: tuple[type[Exception], ...] = (EOFError, OSError, *CORRUPT_GZIP, DecompressionBomb)


def read_error_reason(exc: BaseException) -> str:
    """A short, user-facing reason for a failure while reading a payload."""
    if isinstance(exc, DecompressionBomb):
        return f"decompression bomb refused: {exc}"
    if isinstance(exc, EOFError):
        return "truncated gzip: the object ended before the end-of-stream marker"
    if isinstance(exc, CORRUPT_GZIP):
        return f"corrupt gzip: {exc}"
    return f"read error: {exc}"


def read_all(chunks: Iterable[bytes], limit: int) -> bytes:
    """Join a whole JSON document, refusing documents larger than ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise DecompressionBomb(f"document larger than {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


@dataclass(slots=True)
class OverlongLine:
    """A line longer than the reader's limit, passed over without holding it: its first bytes and
    its length. It stands in its block sequence for exactly one line."""

    head: str
    size: int
    limit: int

    def letter(self, origin: str, line_no: int) -> DeadLetter:
        """The dead letter of this line, at line ``line_no`` of ``origin``."""
        return DeadLetter(self.head, f"a line of {self.size} bytes, longer than the {self.limit} bytes a record "
                                     "may have: passed over", origin, f"line {line_no}")


OVERLONG_HEAD_BYTES = 64 * 1024


def iter_line_blocks(chunks: Iterable[bytes], max_line: int) -> Iterator[list[str] | OverlongLine]:
    """Yield the payload's lines in blocks (C-level splitting, no per-line Python call).

    A line longer than ``max_line`` bytes is not held in memory: it comes out as one
    ``OverlongLine`` and reading goes on with the line after it. Line endings are stripped; the
    final line needs no newline.
    """
    carry = b""
    overlong: OverlongLine | None = None
    for data in chunks:
        if overlong is not None:
            end = data.find(b"\n")
            if end < 0:
                overlong.size += len(data)
                continue
            overlong.size += end
            yield overlong
            overlong = None
            data = data[end + 1 :]
        buf = carry + data if carry else data
        cut = buf.rfind(b"\n")
        if cut < 0:
            carry = buf
        else:
            carry = buf[cut + 1 :]
            text = buf[:cut].decode("utf-8", "replace")
            if "\r" in text:
                text = text.replace("\r", "")
            yield text.split("\n")
        if len(carry) > max_line:
            overlong = OverlongLine(carry[:OVERLONG_HEAD_BYTES].decode("utf-8", "replace"), len(carry), max_line)
            carry = b""
    if overlong is not None:
        yield overlong
    elif carry:
        yield [carry.decode("utf-8", "replace").rstrip("\r")]


_STRUCTURE = re.compile(rb'["\\\[\]{},]')


def array_elements(data: bytes) -> tuple[list[bytes], bytes, bytes]:
    """The top-level elements of a run of JSON array elements, told apart by brackets, commas and
    quotes alone, so that a value JSON does not allow (1e400, bytes that are not UTF-8, a lone
    surrogate) still has its bounds and its neighbours can be read. Returns the complete
    elements, the last one when it is still open at the end of ``data`` (else ``b""``), and what
    follows the bracket that closes the array, if one does."""
    elements: list[bytes] = []
    depth = 0
    in_string = False
    start = position = 0
    while (match := _STRUCTURE.search(data, position)) is not None:
        char = data[match.start()]
        position = match.end()
        if in_string:
            if char == 0x5C:  # a backslash: the next byte is escaped
                position += 1
            elif char == 0x22:
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in (0x7B, 0x5B):
            depth += 1
        elif char in (0x7D, 0x5D):
            if depth == 0:  # the array's own closing bracket
                last = data[start:match.start()]
                if last.strip():
                    elements.append(last)
                return elements, b"", data[match.start() + 1 :]
            depth -= 1
        elif depth == 0:  # a comma between elements
            elements.append(data[start:match.start()])
            start = position
    last = data[start:]
    if depth or in_string:
        return elements, last, b""
    if last.strip():
        elements.append(last)
    return elements, b"", b""


class JsonPayload(NamedTuple):
    """A whole JSON object read from a payload: a document, or lines when it holds several values,
    or the outcome (dead letter, skip) when there is nothing to parse."""

    outcome: DeadLetter | Skipped | None = None
    document: Any = None
    lines: list[str] | None = None


EMPTY_RULE = "empty object"


def read_json_payload(chunks: Iterable[bytes], origin: str, limit: int) -> JsonPayload:
    """Read and parse a whole JSON payload (up to ``limit`` bytes) as CloudTrail and Config objects are."""
    try:
        data = read_all(chunks, limit)
    except READ_ERRORS as exc:
        return JsonPayload(outcome=DeadLetter(None, read_error_reason(exc), origin, "object"))
    if not data.strip():
        return JsonPayload(outcome=Skipped(EMPTY_RULE, 1, origin))
    try:
        return JsonPayload(document=orjson.loads(data))
    except orjson.JSONDecodeError:
        # Several JSON values: one per line.
        return JsonPayload(lines=data.decode("utf-8", "replace").split("\n"))


def inflate_bounded(data: bytes, limit: int) -> bytes:
    """Gunzip a small in-memory payload (an SQS or CloudWatch Logs message) refusing to expand
    beyond ``limit``; ValueError says why it could not."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, limit)
    except zlib.error as exc:
        raise ValueError(f"corrupt gzip: {exc}") from None
    if inflater.unconsumed_tail:
        raise ValueError(f"expands beyond {limit} bytes")
    if not inflater.eof:
        raise ValueError("truncated gzip")
    return out


def json_lines(blocks: Iterable[list[str] | OverlongLine], origin: str
               ) -> Iterator[tuple[int, Any, str] | DeadLetter]:
    """``(line number, value, line)`` for each non-blank line of one JSON value per line; a line
    that is not JSON (or too long to read) comes out as a dead letter naming it, and the lines
    after it still flow."""
    line_no = 0
    for block in blocks:
        if isinstance(block, OverlongLine):
            line_no += 1
            yield block.letter(origin, line_no)
            continue
        for line in block:
            line_no += 1
            if not line.strip():
                continue
            try:
                yield line_no, orjson.loads(line), line
            except orjson.JSONDecodeError as exc:
                yield DeadLetter(line, f"invalid JSON: {exc}", origin, f"line {line_no}")
