"""Which format an object is in, from its key (AWS's standard layouts) or, failing that, its content."""

from __future__ import annotations

import re

import orjson

VPCFLOW = "vpcflow"
CLOUDTRAIL = "cloudtrail"
CONFIG = "config"
TYPES = (VPCFLOW, CLOUDTRAIL, CONFIG)

_KEY_PATTERNS = (
    (re.compile(r"(^|/)vpcflowlogs/|_vpcflowlogs_|aws-service=vpcflowlogs", re.I), VPCFLOW),
    (re.compile(r"(^|/)CloudTrail(-Insight|-Digest)?/|_CloudTrail(-Insight|-Digest)?_"), CLOUDTRAIL),
    (re.compile(r"(^|/)Config/|_Config_|ConfigHistory|ConfigSnapshot"), CONFIG),
)
_CONFIG_KEYS = ("configurationItems", "configurationItem", "configurationItemSummary", "messageType",
                "newEvaluationResult", "configRuleName")


def detect_from_key(key: str) -> str | None:
    """Type from a standard AWS key layout, or ``None`` when the key does not say."""
    if key.endswith(".parquet"):
        return VPCFLOW
    for pattern, kind in _KEY_PATTERNS:
        if pattern.search(key):
            return kind
    return None


def detect_from_content(head: bytes) -> str | None:
    """Type from the first (decompressed) bytes of an object."""
    if head.startswith(b"PAR1"):
        return VPCFLOW
    text = head.lstrip()
    if not text:
        return None
    if text[:1] == b"{":
        first_line = text.split(b"\n", 1)[0]
        for candidate in (first_line, text):
            try:
                doc = orjson.loads(candidate)
            except orjson.JSONDecodeError:
                continue
            return _kind_of_json(doc)
        return _kind_of_json_prefix(text)
    tokens = text.split(b"\n", 1)[0].split()
    if tokens and (tokens[0] == b"version" or (tokens[0].isdigit() and len(tokens) >= 14)):
        return VPCFLOW
    if tokens and tokens[0].replace(b"$", b"").replace(b"{", b"").replace(b"}", b"") in (
            b"account-id", b"interface-id", b"srcaddr", b"vpc-id"):
        return VPCFLOW
    return None


def _kind_of_json(doc: object) -> str | None:
    if not isinstance(doc, dict):
        return None
    if "Records" in doc or "eventVersion" in doc or "digestStartTime" in doc:
        return CLOUDTRAIL
    if any(k in doc for k in _CONFIG_KEYS):
        return CONFIG
    if doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
        return CONFIG if "configuration" in doc["Message"].lower() or "compliance" in doc["Message"].lower() \
            else None
    if doc.get("detail-type", "").startswith("Config "):
        return CONFIG
    if isinstance(doc.get("message"), str):
        return VPCFLOW
    return None


def _kind_of_json_prefix(text: bytes) -> str | None:
    # A large single document whose head alone is not valid JSON.
    window = text[:4096]
    if b'"Records"' in window or b'"eventVersion"' in window:
        return CLOUDTRAIL
    if any(k.encode() in window for k in _CONFIG_KEYS):
        return CONFIG
    return None
