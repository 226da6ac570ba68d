"""Indexer acknowledgement: which accepted HEC requests are indexed, and which are overdue.

With ``ack`` on, HEC answers each request with an ackId; its events count as delivered only once
/services/collector/ack reports that id as indexed, and a request whose ack is overdue is sent again.
"""

from __future__ import annotations

import logging
import time

import orjson
import requests

from connector.errors import FatalSinkError
from connector.sinks.splunk_hec_config import HecSinkConfig
from connector.sinks.splunk_hec_events import EventChunk
from connector.sinks.splunk_hec_responses import FATAL_CODES, TRANSIENT_ERRORS, hec_code, parse_body, refusal

# Ack warnings read as the sink's own, under its logger name.
log = logging.getLogger("connector.sinks.splunk_hec")

_FIRST_ACK_POLL = 0.005
_IDS_PER_QUERY = 1000


class AckEndpoint:
    """Asks HEC's acknowledgement endpoint which ack ids of this channel are indexed."""

    def __init__(
        self, config: HecSinkConfig, session: requests.Session, headers: dict[str, str], verify: bool | str
    ) -> None:
        self.config = config
        self._url = config.hec_url + "/services/collector/ack"
        self._session = session
        self._headers = headers
        self._verify = verify

    def indexed(self, ids: list[int]) -> set[int]:
        """The ids HEC reports as indexed, asked for at most 1000 at a time."""
        acked: set[int] = set()
        for start in range(0, len(ids), _IDS_PER_QUERY):
            acked |= self._query(ids[start : start + _IDS_PER_QUERY])
        return acked

    def _query(self, ids: list[int]) -> set[int]:
        try:
            resp = self._session.post(
                self._url,
                data=orjson.dumps({"acks": ids}),
                headers=self._headers,
                verify=self._verify,
                timeout=self.config.request_timeout,
            )
        except TRANSIENT_ERRORS as exc:
            # A lost poll costs nothing: the next one asks again, and the ack timeout still holds.
            log.warning("hec ack poll failed", extra={"error": type(exc).__name__})
            return set()
        payload = parse_body(resp.content)
        if resp.status_code in (401, 403) or hec_code(payload) in FATAL_CODES:
            raise FatalSinkError(
                f"Splunk HEC at {self.config.hec_url} refused the ack query: {refusal(payload, resp)}"
            )
        if resp.status_code != 200 or not isinstance(payload, dict):
            return set()
        acks = payload.get("acks")
        if not isinstance(acks, dict):
            return set()
        return {ack_id for ack_id in ids if acks.get(str(ack_id)) is True}


class PendingAcks:
    """Requests of one send run that HEC accepted but has not reported indexed, and when to ask next.

    Polls start 5 ms apart and back off to ``poll_interval`` while nothing is acked.
    """

    def __init__(self, ack_timeout: float, poll_interval: float) -> None:
        self.ack_timeout = ack_timeout
        self.poll_interval = poll_interval
        # ack id -> (request, deadline on the monotonic clock, times it was sent again)
        self.waiting: dict[int, tuple[EventChunk, float, int]] = {}
        self.next_poll = 0.0
        self._delay = _FIRST_ACK_POLL

    def __bool__(self) -> bool:
        return bool(self.waiting)

    def add(self, ack_id: int, chunk: EventChunk, resends: int) -> None:
        """Wait for ``ack_id`` until ``ack_timeout`` from now."""
        self.waiting[ack_id] = (chunk, time.monotonic() + self.ack_timeout, resends)

    def confirm(self, acked: set[int]) -> int:
        """Forget the requests HEC reported indexed; returns how many events they carried."""
        events = 0
        for ack_id in acked:
            chunk, _, _ = self.waiting.pop(ack_id)
            events += len(chunk.positions)
        return events

    def take_overdue(self) -> list[tuple[int, EventChunk, int]]:
        """Remove and return the requests whose ack is overdue: (ack id, request, resends so far)."""
        now = time.monotonic()
        late = [a for a, (_, deadline, _) in self.waiting.items() if deadline <= now]
        overdue: list[tuple[int, EventChunk, int]] = []
        for ack_id in late:
            chunk, _, resends = self.waiting.pop(ack_id)
            overdue.append((ack_id, chunk, resends))
        return overdue

    def start_polling(self) -> None:
        """Schedule the first poll."""
        self._delay = _FIRST_ACK_POLL
        self.next_poll = time.monotonic() + self._delay

    def seconds_to_poll(self) -> float:
        """How long until the next poll is due (0 when it already is)."""
        return max(0.0, self.next_poll - time.monotonic())

    def poll_due(self) -> bool:
        """True when acks are awaited and the next poll is due."""
        return bool(self.waiting) and time.monotonic() >= self.next_poll

    def polled(self, any_acked: bool) -> None:
        """Schedule the next poll: soon after progress, backing off while nothing is acked."""
        self._delay = _FIRST_ACK_POLL if any_acked else min(self._delay * 2, self.poll_interval)
        self.next_poll = time.monotonic() + self._delay


__all__ = ["AckEndpoint", "PendingAcks"]
