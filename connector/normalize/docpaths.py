"""Dotted-path access to nested dicts, precompiled so per-record work is a few dict lookups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Getter = Callable[[dict[str, Any]], Any]
Setter = Callable[[dict[str, Any], Any], None]


def getter(dotted: str) -> Getter:
    """Function returning the value at ``dotted`` in a record, or ``None`` when any step is missing."""
    parts = dotted.split(".")
    if len(parts) == 1:
        key = parts[0]
        return lambda rec: rec.get(key)

    def get(rec: dict[str, Any]) -> Any:
        value: Any = rec
        for part in parts:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
            if value is None:
                return None
        return value

    return get


def setter(dotted: str) -> Setter:
    """Function storing a value at ``dotted``, creating the intermediate objects."""
    parts = dotted.split(".")
    head, last = parts[:-1], parts[-1]

    def put(doc: dict[str, Any], value: Any) -> None:
        node = doc
        for part in head:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
        node[last] = value

    return put


def get_path(doc: dict[str, Any], dotted: str) -> Any:
    """One-off read of ``dotted`` (not for hot paths)."""
    return getter(dotted)(doc)


def iso_millis(value: Any) -> str:
    """Any ISO 8601 time AWS writes -> ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC)."""
    text = str(value)
    if len(text) == 20 and text[-1] == "Z" and text[10] == "T":  # the common 2026-11-27T10:00:00Z
        return text[:-1] + ".000Z"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


_PLACEHOLDERS = frozenset(("Not Applicable", "-", "N/A"))
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "string": lambda v: v,
    "iso_time": iso_millis,
    "text": str,
    "aws_optional": lambda v: None if v in _PLACEHOLDERS else v,
}


class FieldMoves:
    """The plain part of a spec: record path -> document paths, with a conversion, compiled once."""

    def __init__(self, fields: dict[str, dict[str, Any]]) -> None:
        self._moves = []
        for source, rule in fields.items():
            kind = rule.get("type", "string")
            if kind not in _CONVERTERS:
                raise ValueError(f"field {source}: unknown type {kind!r}")
            self._moves.append(
                (getter(source), [setter(t) for t in rule["to"]], _CONVERTERS[kind], rule.get("related"))
            )

    def apply(self, rec: dict[str, Any], doc: dict[str, Any], related: dict[str, list[Any]]) -> None:
        """Copy every present, non-empty value of ``rec`` into ``doc``; collect related.* values."""
        for get, puts, convert, related_kind in self._moves:
            value = get(rec)
            if value is None or value == "":
                continue
            value = convert(value)
            if value is None:
                continue
            for put in puts:
                put(doc, value)
            if related_kind is not None:
                bucket = related.setdefault(related_kind, [])
                if value not in bucket:
                    bucket.append(value)
