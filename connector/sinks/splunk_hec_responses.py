"""What Splunk HEC's answers mean: its status codes, and the text an operator sees when it refuses.

The sink, its start-up check and the acknowledgement poller all read answers the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import requests

# HEC status codes (from the response body) that refuse every request with this configuration;
# retrying or dead-lettering cannot help, so the run stops.
FATAL_CODES: Mapping[int, str] = {
    1: "the HEC token is disabled",
    2: "no HEC token was sent",
    3: "the Authorization header is malformed",
    4: "the HEC token is invalid",
    7: "the index is not allowed for this token or does not exist",
    10: "the data channel is missing (indexer acknowledgement is on for this token)",
    11: "the data channel is invalid",
    14: "indexer acknowledgement is disabled for this token; set ack: false or enable it",
    16: "query string authorization is not enabled",
}
# Codes that name one bad event in the request (with invalid-event-number).
EVENT_CODES = frozenset({6, 12, 13, 15})
# Transport failures worth trying again: no connection, no answer in time, or a connection that
# broke while the answer was being read (an answer cut short raises ChunkedEncodingError).
TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def parse_body(content: bytes) -> Any:
    """The JSON body of an answer, or None when it is empty or not JSON."""
    try:
        return orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return None


def hec_code(payload: Any) -> int | None:
    """HEC's own status code from a parsed body (``code``), if it has one."""
    if isinstance(payload, dict):
        code = payload.get("code")
        if isinstance(code, int):
            return code
    return None


def describe(payload: Any, resp: requests.Response) -> str:
    """HEC's text and code, or the start of a body that is not HEC's JSON."""
    if isinstance(payload, dict) and "text" in payload:
        code = payload.get("code")
        return f"{payload['text']!s} (code {code})" if code is not None else str(payload["text"])
    text = resp.text[:200].strip()
    return text or resp.reason or ""


def refusal(payload: Any, resp: requests.Response) -> str:
    """A refused request: status, HEC's words and what they mean for this configuration."""
    code = hec_code(payload)
    meaning = FATAL_CODES.get(code) if code is not None else None
    if meaning is None:
        meaning = "the token was refused" if resp.status_code in (401, 403) else "the request was refused"
    return f"HTTP {resp.status_code} {describe(payload, resp)}: {meaning}"
