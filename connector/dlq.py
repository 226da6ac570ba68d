"""Dead-letter store: records a sink refused or a parser could not read, each with its reason
and location, one JSON object per line, so they can be inspected and replayed.

The store is a local file (appended), standard error (no path), or an S3 prefix
(``s3://bucket/prefix``): there each ``write`` becomes one object, written before ``write``
returns, so a Lambda function or a container keeps its dead letters past its own life."""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import IO, Any

import orjson

from connector.errors import ConfigError, SinkError
from connector.normalize.timestamps import utc_now_iso
from connector.sinks.base import DeadLetter

MAX_RECORD_CHARS = 64 * 1024
# Before each entry written to stderr, so that log lines and dead letters can be told apart.
STDERR_PREFIX = "dead letter: "


def _bounded(record: Any) -> Any:
    # A garbage "line" can be hundreds of megabytes; the reason says what was wrong with it.
    if isinstance(record, (str, bytes)) and len(record) > MAX_RECORD_CHARS:
        head = record[:MAX_RECORD_CHARS]
        text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
        return f"{text}... [truncated: {len(record)} characters in all]"
    return record


def dead_letter_json(letter: DeadLetter) -> bytes:
    """One dead letter as a JSON line (records that are not JSON-serializable become text)."""
    entry: dict[str, Any] = {
        "time": utc_now_iso(),
        "origin": letter.origin,
        "location": letter.location,
        "reason": letter.reason,
        "record": _bounded(letter.record),
    }
    try:
        return orjson.dumps(entry, default=repr, option=orjson.OPT_NON_STR_KEYS) + b"\n"
    except orjson.JSONEncodeError:
        # A record nested deeper than orjson writes, a lone surrogate, an integer beyond 64 bits:
        # the record becomes its JSON text, written without recursion, and the rest is escaped.
        entry = {name: _escaped(value) for name, value in entry.items() if name != "record"}
        entry["record"] = _bounded(_json_text(letter.record))
        return orjson.dumps(entry) + b"\n"


def _escaped(value: Any) -> Any:
    return value.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(value, str) else value


def _json_text(value: Any) -> str:
    """JSON text of a parsed record, however deep, with an explicit stack instead of recursion;
    strings and numbers are written as the standard library writes them (surrogates escaped)."""
    parts: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            parts.append(item.text)
        elif isinstance(item, dict):
            parts.append("{")
            stack.append(_Text("}"))
            entries = list(item.items())
            for index in range(len(entries) - 1, -1, -1):
                key, inner = entries[index]
                stack.append(inner)
                stack.append(_Text(("," if index else "") + json.dumps(str(key)) + ":"))
        elif isinstance(item, (list, tuple)):
            parts.append("[")
            stack.append(_Text("]"))
            for index in range(len(item) - 1, -1, -1):
                stack.append(item[index])
                if index:
                    stack.append(_Text(","))
        elif item is None or isinstance(item, (str, int, float)):
            parts.append(json.dumps(item))
        else:
            parts.append(json.dumps(repr(item)))
    return "".join(parts)


class _Text:
    """Punctuation ``_json_text`` writes as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def split_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` as (bucket, prefix without slashes at its ends)."""
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise ConfigError(f"dead-letter path {url!r} names no bucket; use s3://BUCKET/PREFIX")
    return bucket, prefix.strip("/")


def s3_client_or_default(client: Any = None) -> Any:
    """``client``, or an S3 client from the default credential chain (``AWS_ENDPOINT_URL`` too)."""
    if client is None:
        import boto3

        client = boto3.client("s3")
    return client


class _S3Objects:
    """One object per ``put``: ``<prefix>/YYYY/MM/DD/HHMMSSZ-<random>.ndjson``."""

    def __init__(self, url: str, client: Any = None) -> None:
        self.url = url
        self.bucket, self.prefix = split_s3_url(url)
        self._client = s3_client_or_default(client)

    def put(self, data: bytes) -> None:
        stamp = time.strftime("%Y/%m/%d/%H%M%SZ", time.gmtime())
        key = f"{self.prefix}/{stamp}-{uuid.uuid4().hex}.ndjson".lstrip("/")
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="application/x-ndjson")
        except (ClientError, BotoCoreError) as exc:
            # Nothing is acknowledged when this is raised, so the records come back.
            raise SinkError(f"dead-letter store {self.url}: cannot write s3://{self.bucket}/{key}: {exc}") from None


class DeadLetterStore:
    """Stores dead letters in a file, an S3 prefix, or on stderr when no path is configured;
    thread-safe."""

    def __init__(self, path: str | None, s3_client: Any = None) -> None:
        self.path = path
        self.count = 0
        self._lock = threading.Lock()
        self._out: IO[bytes] | None = None
        self._s3: _S3Objects | None = None
        if path and path.startswith("s3://"):
            self._s3 = _S3Objects(path, s3_client)
        elif path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._out = open(path, "ab")  # noqa: SIM115 - closed in close()

    def write(self, letters: list[DeadLetter]) -> None:
        """Store ``letters``; flushed at once, since a crash must not lose them."""
        if not letters:
            return
        data = b"".join(dead_letter_json(letter) for letter in letters)
        with self._lock:
            if self._s3 is not None:
                self._s3.put(data)
            elif self._out is None:
                text = data.decode("utf-8", "replace")
                sys.stderr.write("".join(STDERR_PREFIX + line for line in text.splitlines(keepends=True)))
                sys.stderr.flush()
            else:
                self._out.write(data)
                self._out.flush()
            self.count += len(letters)

    def close(self) -> None:
        """Close the file (never stderr)."""
        if self._out is not None:
            self._out.close()
