"""One feed from where it lives to its indicators: read (a file or ``s3://bucket/key``, gunzipped
when the magic bytes say gzip), tell its format, parse, and report what could not be used.

A feed that cannot be read, cannot be parsed as its format, or holds no valid indicator raises
``FeedError`` naming the feed and its path: the start stops with that one line. Entries that are
not indicators only cost a warning (one line per feed: how many, and the first).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from connector.errors import ConfigError
from connector.formats.base import READ_ERRORS, payload_chunks, read_error_reason
from connector.threat_intel.entries import Entry, FeedFormatError, Tally
from connector.threat_intel.indicators import Indicator, canonical_value, ecs_confidence, iso_time, text_or_none
from connector.threat_intel.misp import is_misp, misp_entries
from connector.threat_intel.settings import FeedSettings
from connector.threat_intel.stix import stix_entries
from connector.threat_intel.text_formats import csv_entries, looks_like_csv, plain_entries

log = logging.getLogger(__name__)
S3ClientFactory = Callable[[], Any]


class FeedError(ConfigError):
    """A feed cannot be used at all; the message names the feed, its path and what is wrong."""


def feed_label(settings: FeedSettings) -> str:
    """How messages name a feed: ``threat_intel feed 'feodo' (/etc/…/feodo.csv)``."""
    return f"threat_intel feed {settings.name!r} ({settings.path})"


def read_feed(settings: FeedSettings, s3_client_factory: S3ClientFactory | None = None) -> bytes:
    """The feed's bytes, gunzipped when they start with the gzip magic bytes."""
    return read_versioned(settings, s3_client_factory)[0]


def read_versioned(settings: FeedSettings, s3_client_factory: S3ClientFactory | None = None) -> tuple[bytes, str]:
    """The feed's bytes and the version they are (as ``feed_version`` spells it), from one read."""
    if settings.path.startswith("s3://"):
        bucket, key = _s3_location(settings)
        client = _s3_client(settings, s3_client_factory)
        try:
            response = client.get_object(Bucket=bucket, Key=key)
            data, version = bytes(response["Body"].read()), str(response["ETag"])
        except (BotoCoreError, ClientError) as exc:
            raise FeedError(f"{feed_label(settings)}: cannot read: {_aws_reason(exc)}") from None
    else:
        try:
            with open(settings.path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                data, version = handle.read(), f"{stat.st_mtime_ns}:{stat.st_size}"
        except OSError as exc:
            raise FeedError(f"{feed_label(settings)}: cannot read: {exc.strerror or exc}") from None
    try:
        return b"".join(payload_chunks(io.BytesIO(data))), version
    except READ_ERRORS as exc:
        raise FeedError(f"{feed_label(settings)}: {read_error_reason(exc)}") from None


def feed_version(settings: FeedSettings, s3_client_factory: S3ClientFactory | None = None) -> str:
    """What changes when the feed does: a file's mtime and size, an S3 object's ETag."""
    if settings.path.startswith("s3://"):
        bucket, key = _s3_location(settings)
        client = _s3_client(settings, s3_client_factory)
        try:
            return str(client.head_object(Bucket=bucket, Key=key)["ETag"])
        except (BotoCoreError, ClientError) as exc:
            raise FeedError(f"{feed_label(settings)}: cannot check for a new copy: {_aws_reason(exc)}") from None
    try:
        stat = os.stat(settings.path)
    except OSError as exc:
        raise FeedError(f"{feed_label(settings)}: cannot check for a new copy: {exc.strerror or exc}") from None
    return f"{stat.st_mtime_ns}:{stat.st_size}"


def parse_feed(data: bytes, settings: FeedSettings) -> list[Indicator]:
    """The feed's indicators (one per distinct value, the first listing wins), in feed order."""
    tally = Tally()
    try:
        fmt, entries = _entries(data, settings, tally)
        indicators = _indicators(entries, settings, tally)
    except FeedFormatError as exc:
        raise FeedError(f"{feed_label(settings)}: {exc}") from None
    losses = tally.losses()
    if not indicators:
        raise FeedError(f"{feed_label(settings)}: no valid indicator in the {fmt} feed" +
                        (f" ({losses})" if losses else (f" ({tally.skips()})" if tally.ignored else "")))
    if losses:
        log.warning("%s: %s", feed_label(settings), losses)
    log.info("%s: %s indicators (%s)%s", feed_label(settings), f"{len(indicators):,}", fmt,
             f"; skipped by rule: {tally.skips()}" if tally.ignored else "")
    return indicators


def _entries(data: bytes, settings: FeedSettings, tally: Tally) -> tuple[str, Iterable[Entry]]:
    """The format (told from the content for ``auto``) and the feed's raw entries."""
    fmt = settings.format
    text = data.decode("utf-8-sig", errors="replace")
    doc: Any = None
    if fmt == "auto":
        head = text.lstrip()[:1]
        if head in ("{", "["):
            try:
                doc = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                if head == "{":
                    raise FeedFormatError(f"invalid JSON: {exc}") from None
            else:
                if isinstance(doc, dict) and doc.get("type") == "bundle":
                    fmt = "stix2"
                elif is_misp(doc):
                    fmt = "misp"
                else:
                    raise FeedFormatError("JSON that is neither a STIX 2.1 bundle nor a MISP event export")
        if fmt == "auto":
            fmt = "csv" if looks_like_csv(text, settings.column) else "plain"
    if fmt == "plain":
        return fmt, plain_entries(text)
    if fmt == "csv":
        return fmt, csv_entries(text, settings.column)
    if doc is None:
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise FeedFormatError(f"invalid JSON for format {fmt}: {exc}") from None
    if fmt == "stix2":
        return fmt, stix_entries(doc, tally)
    return fmt, misp_entries(doc, tally)


def _indicators(entries: Iterable[Entry], settings: FeedSettings, tally: Tally) -> list[Indicator]:
    found: dict[str, Indicator] = {}
    shared: dict[str, str] = {}  # one string object for metadata repeated on many rows ("QakBot")

    def keep(text: str | None) -> str | None:
        return None if text is None else shared.setdefault(text, text)

    for entry in entries:
        parsed = canonical_value(entry.value) if isinstance(entry.value, str) else None
        if parsed is None:
            tally.add_invalid(str(entry.value), entry.where)
            continue
        value, kind = parsed
        if value in found:
            continue
        found[value] = Indicator(
            value, kind, settings.name, settings.severity, keep(text_or_none(entry.description)),
            keep(iso_time(entry.first_seen)), keep(iso_time(entry.last_seen)), ecs_confidence(entry.confidence),
            keep(text_or_none(entry.reference)))
    return list(found.values())


def _s3_location(settings: FeedSettings) -> tuple[str, str]:
    bucket, _, key = settings.path[len("s3://"):].partition("/")
    if not bucket or not key:
        raise FeedError(f"{feed_label(settings)}: an S3 path needs a bucket and a key (s3://bucket/key)")
    return bucket, key


def _s3_client(settings: FeedSettings, factory: S3ClientFactory | None) -> Any:
    if factory is None:
        raise FeedError(f"{feed_label(settings)}: an s3:// feed needs AWS access, and none was given")
    try:
        return factory()
    except (BotoCoreError, ClientError) as exc:
        raise FeedError(f"{feed_label(settings)}: no S3 client: {_aws_reason(exc)}") from None


def _aws_reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if code in ("NoSuchKey", "404", "NotFound"):
            return f"no such object ({code})"
        if code in ("NoSuchBucket",):
            return "no such bucket"
        return f"{code}: {message}".strip(": ") or str(exc)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
