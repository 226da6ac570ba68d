"""STIX 2.1 bundles: ``indicator`` objects whose pattern names addresses, networks or domains.

A pattern is used when it is one or more comparisons joined by ``OR`` (inside one observation
``[a OR b]`` or across observations ``[a] OR [b]``), each of the form
``ipv4-addr:value = '…'``, ``ipv6-addr:value = '…'``, ``ipv4-addr:value ISSUBSET '…/…'``
(likewise IPv6) or ``domain-name:value = '…'``: any one value seen is then a match. Anything
else (``AND``, ``FOLLOWEDBY``, qualifiers, other object types, other operators, non-STIX pattern
languages) cannot be decided from one field of one document: such indicators are counted as
unsupported and reported. Revoked indicators and those whose ``valid_until`` has passed are
skipped by rule.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from connector.threat_intel.entries import Entry, FeedFormatError, Tally

_COMPARISON = re.compile(
    r"\s*(?P<object>ipv4-addr|ipv6-addr|domain-name):value\s*(?P<op>=|ISSUBSET)\s*'(?P<value>(?:[^'\\]|\\.)*)'\s*")
_OR = re.compile(r"\s*OR\s")


def stix_entries(bundle: Any, tally: Tally, now: float | None = None) -> Iterator[Entry]:
    """Entries of every usable indicator in ``bundle`` (decoded JSON)."""
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle" or not isinstance(bundle.get("objects"), list):
        raise FeedFormatError('not a STIX 2.1 bundle (expected {"type": "bundle", "objects": [...]})')
    moment = time.time() if now is None else now
    for position, obj in enumerate(bundle["objects"], 1):
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue
        where = str(obj.get("id") or f"object {position}")
        if obj.get("revoked") is True:
            tally.add_ignored("revoked STIX indicators")
            continue
        if _expired(obj.get("valid_until"), moment):
            tally.add_ignored("expired STIX indicators")
            continue
        pattern = obj.get("pattern")
        values = pattern_values(pattern) if obj.get("pattern_type", "stix") == "stix" else None
        if values is None:
            tally.add_unsupported(str(pattern), where)
            continue
        description = obj.get("description") or obj.get("name")
        for value in values:
            yield Entry(value, where, description, obj.get("valid_from"), None, obj.get("confidence"),
                        _reference(obj.get("external_references")))


def pattern_values(pattern: Any) -> list[str] | None:
    """The values of a pattern made only of ``OR``-ed comparisons this reader supports, else ``None``."""
    if not isinstance(pattern, str):
        return None
    values: list[str] = []
    pos, end = 0, len(pattern)
    while True:
        pos = _skip_space(pattern, pos)
        if pos >= end or pattern[pos] != "[":
            return None
        pos += 1
        while True:  # comparisons of one observation
            match = _COMPARISON.match(pattern, pos)
            if match is None or (match["object"] == "domain-name" and match["op"] != "="):
                return None
            values.append(re.sub(r"\\(.)", r"\1", match["value"]))
            pos = match.end()
            joined = _OR.match(pattern, pos)
            if joined is not None:
                pos = joined.end()
                continue
            if pos < end and pattern[pos] == "]":
                pos += 1
                break
            return None
        pos = _skip_space(pattern, pos)
        if pos == end:
            return values
        joined = _OR.match(pattern, pos)
        if joined is None:
            return None  # AND, FOLLOWEDBY, a qualifier such as WITHIN or REPEATS
        pos = joined.end()


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _expired(valid_until: Any, now: float) -> bool:
    if not isinstance(valid_until, str):
        return False
    try:
        moment = datetime.fromisoformat(valid_until)
    except ValueError:
        return False
    if moment.tzinfo is None:  # STIX times are UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() < now


def _reference(refs: Any) -> str | None:
    """The first external reference that carries a URL."""
    if isinstance(refs, list):
        for ref in refs:
            if isinstance(ref, dict) and isinstance(ref.get("url"), str):
                return str(ref["url"])
    return None
