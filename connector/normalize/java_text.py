"""Renders JSON values the way Elastic's ingest pipeline stores CloudTrail's free-form objects.

Elastic keeps ``requestParameters`` & co. as the text of a Java ``HashMap`` (``{k=v, ...}`` in
hash-bucket order). Detection rules written for Elastic match on that text, so we render it
identically: same key order, same scalar spelling.
"""

from __future__ import annotations

from typing import Any

_ORDER_CACHE: dict[tuple[tuple[str, ...], int], tuple[int, ...]] = {}


def _java_string_hash(text: str) -> int:
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h


def _capacity(entries: int) -> int:
    capacity = 16
    while entries > capacity * 0.75:
        capacity *= 2
    return capacity


def hash_map_order(keys: list[str], original_size: int) -> list[str]:
    """Iteration order of a ``java.util.HashMap`` that received ``original_size`` entries."""
    return [keys[i] for i in _order(tuple(keys), original_size)]


def _order(keys: tuple[str, ...], original_size: int) -> tuple[int, ...]:
    """Positions of ``keys`` in ``java.util.HashMap`` iteration order (bucket, then insertion),
    cached: the same request shapes recur on every record."""
    cache_key = (keys, original_size)
    order = _ORDER_CACHE.get(cache_key)
    if order is None:
        mask = _capacity(original_size) - 1

        def bucket(i: int) -> tuple[int, int]:
            h = _java_string_hash(keys[i])
            return ((h ^ (h >> 16)) & mask, i)

        order = tuple(sorted(range(len(keys)), key=bucket))
        if len(_ORDER_CACHE) > 50_000:
            _ORDER_CACHE.clear()
        _ORDER_CACHE[cache_key] = order
    return order


def _java_double(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return {True: "NaN"}.get(value != value, "Infinity" if value > 0 else "-Infinity")
    magnitude = abs(value)
    if magnitude == 0 or 1e-3 <= magnitude < 1e7:
        text = repr(value)
        return text if "." in text or "e" in text else text + ".0"
    mantissa, exponent = f"{value:.17g}".split("e") if "e" in f"{value:.17g}" else (repr(value), "0")
    mantissa_f = float(mantissa)
    exp = int(exponent)
    while abs(mantissa_f) >= 10:
        mantissa_f /= 10
        exp += 1
    while 0 < abs(mantissa_f) < 1:
        mantissa_f *= 10
        exp -= 1
    m = repr(round(mantissa_f, 15))
    return f"{m}E{exp}"


def java_text(value: Any) -> str:
    """Java ``toString`` of a JSON value after Elastic's pipeline dropped its empty members.

    Maps are sized by the entries they had before the drop, as Java's were.
    """
    if isinstance(value, dict):
        kept = {k: v for k, v in value.items() if drop_empty(v) is not None}
        keys = hash_map_order(list(kept), len(value))
        return "{" + ", ".join(f"{k}={java_text(kept[k])}" for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_text(v) for v in value if drop_empty(v) is not None) + "]"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return _java_double(value)
    return str(value)


def drop_empty(value: Any) -> Any:
    """Remove nulls, empty strings and empty containers recursively (Elastic's pipeline does
    this before storing); returns ``None`` when nothing is left."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = drop_empty(v)
            if v is not None:
                out[k] = v
        return out or None
    if isinstance(value, list):
        items = [x for x in (drop_empty(v) for v in value) if x is not None]
        return items or None
    if value is None or value == "":
        return None
    return value


def clean_and_render(value: Any) -> tuple[Any, str]:
    """``drop_empty(value)`` and its Java text in one pass (the hot path of CloudTrail records).

    Returns ``(None, "")`` when nothing is left. Text and integer members, most of any
    request, are handled inline rather than by a recursive call each.
    """
    kind = type(value)
    if kind is str:
        return (None, "") if value == "" else (value, value)
    if kind is int:
        return value, str(value)
    if kind is dict:
        kept: dict[str, Any] = {}
        parts: list[str] = []
        for key, item in value.items():
            item_kind = type(item)
            if item_kind is str:
                if item == "":
                    continue
                kept[key] = item
                parts.append(f"{key}={item}")
                continue
            if item_kind is int:
                kept[key] = item
                parts.append(f"{key}={item}")
                continue
            cleaned, text = clean_and_render(item)
            if cleaned is not None:
                kept[key] = cleaned
                parts.append(f"{key}={text}")
        if not parts:
            return None, ""
        if len(parts) == 1:  # one entry: no order to work out
            return kept, f"{{{parts[0]}}}"
        order = _order(tuple(kept), len(value))
        if len(order) == 2:
            first, second = order
            return kept, f"{{{parts[first]}, {parts[second]}}}"
        return kept, "{" + ", ".join([parts[i] for i in order]) + "}"
    if kind is list:
        items: list[Any] = []
        texts: list[str] = []
        for item in value:
            if type(item) is str:
                if item != "":
                    items.append(item)
                    texts.append(item)
                continue
            cleaned, text = clean_and_render(item)
            if cleaned is not None:
                items.append(cleaned)
                texts.append(text)
        if not items:
            return None, ""
        return items, "[" + ", ".join(texts) + "]"
    if value is None:
        return None, ""
    return value, java_text(value)
