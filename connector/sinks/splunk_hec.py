"""Splunk HTTP Event Collector sink: gzip-batched JSON events, indexer acknowledgement, retries.

Two output modes share one delivery engine. ``ecs`` sends the normalized document with the
``aws:connector:*`` sourcetypes; ``splunk_ta_aws`` sends the original AWS record with the Splunk
Add-on for AWS sourcetypes (plus GeoIP results as indexed fields), so sites that already run that
add-on keep their CIM extractions. This module sends requests and settles their outcome; what an
event looks like is ``splunk_hec_events``, acknowledgement polling ``splunk_hec_acks``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from connector.errors import FatalSinkError, SinkError
from connector.gzip_codec import gzip_compressor
from connector.sinks.base import Batch, DeadLetter, Delivery
from connector.sinks.splunk_hec_acks import AckEndpoint, PendingAcks
from connector.sinks.splunk_hec_config import HecSinkConfig
from connector.sinks.splunk_hec_events import EventChunk, HecEventRenderer
from connector.sinks.splunk_hec_responses import (
    EVENT_CODES,
    FATAL_CODES,
    TRANSIENT_ERRORS,
    describe,
    hec_code,
    parse_body,
    refusal,
)

log = logging.getLogger(__name__)

_SECRET_MASK = "********"


class _Stopped(SinkError):
    """A request not sent because its batch already failed or the sink is closing."""


def _tls_failure(where: str, exc: requests.exceptions.SSLError) -> SinkError:
    """Not retried: a certificate the connector cannot verify stays unverifiable."""
    return SinkError(
        f"Splunk HEC at {where}: TLS verification failed ({type(exc).__name__}); "
        "set splunk_hec.ca_bundle to the CA that signed the HEC certificate"
    )


class _Retryable(Exception):
    """A transient HEC answer (429, 5xx, connection error); tenacity retries it."""


@dataclass(slots=True)
class HecSinkStats:
    """Running totals for metrics and benchmarks: accepted requests, events and body bytes."""

    requests: int = 0
    events: int = 0
    raw_bytes: int = 0
    sent_bytes: int = 0
    retries: int = 0
    resends: int = 0


@dataclass(slots=True)
class _SendRun:
    """State of one ``send`` call, so that concurrent calls share nothing but the pool."""

    batch: Batch
    stop: threading.Event
    acks: PendingAcks
    delivered: int = 0
    dead: list[DeadLetter] = field(default_factory=list)
    in_flight: dict[Future[tuple[str, Any, str]], tuple[EventChunk, int]] = field(default_factory=dict)


class HecSink:
    """Sends batches to Splunk HEC; ``send`` returns when every event is acked or dead-lettered."""

    waits_on_io = True

    def __init__(self, config: HecSinkConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.channel = str(uuid.uuid4())
        self._event_url = config.hec_url + "/services/collector/event"
        self._health_url = config.hec_url + "/services/collector/health"
        self._verify: bool | str = config.ca_bundle or config.verify_tls
        self._gzip = gzip_compressor(config.compression_level) if config.gzip else None
        self._headers = {
            "Authorization": f"Splunk {config.token}",
            "X-Splunk-Request-Channel": self.channel,
            "Content-Type": "application/json",
        }
        if config.gzip:
            self._headers["Content-Encoding"] = "gzip"
        self._own_session = session is None
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=config.concurrency, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._session = session
        self._pool: ThreadPoolExecutor | None = None
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self.stats = HecSinkStats()
        self._events = HecEventRenderer(config)
        self._acks = AckEndpoint(config, session, self._plain_headers(), self._verify)

    def __repr__(self) -> str:
        return f"HecSink(url={self.config.hec_url!r}, mode={self.config.mode!r}, channel={self.channel!r})"

    @property
    def needs_originals(self) -> bool:
        """True when the pipeline must keep each raw AWS record (``splunk_ta_aws`` mode)."""
        return self.config.mode == "splunk_ta_aws"

    @property
    def flush_interval(self) -> float:
        """Seconds after which the pipeline should send a partial batch rather than wait."""
        return self.config.flush_interval

    # ----------------------------------------------------------------- start-up checks

    def check_health(self) -> str:
        """Probe the health endpoint and the token before any data moves; returns a status line."""
        where = self.config.hec_url
        try:
            # Splunk ignores the token here; receivers that guard every path need it.
            resp = self._session.get(
                self._health_url,
                headers=self._plain_headers(),
                verify=self._verify,
                timeout=self.config.request_timeout,
            )
        except requests.exceptions.SSLError as exc:
            raise _tls_failure(where, exc) from None
        except requests.RequestException as exc:
            raise SinkError(f"Splunk HEC at {where} is unreachable: {type(exc).__name__}: {exc}") from None
        body = parse_body(resp.content)
        if resp.status_code in (401, 403):
            raise FatalSinkError(f"Splunk HEC at {where} refused the token: {refusal(body, resp)}")
        if resp.status_code != 200:
            raise SinkError(
                f"Splunk HEC at {where} is not healthy: HTTP {resp.status_code} {describe(body, resp)}"
            )
        # An empty POST exercises the token without sending data: a valid token gets
        # "No data" (code 5), a bad one gets its refusal.
        try:
            probe = self._session.post(
                self._event_url,
                data=b"",
                headers=self._plain_headers(),
                verify=self._verify,
                timeout=self.config.request_timeout,
            )
        except requests.RequestException as exc:
            raise SinkError(f"Splunk HEC at {where} is unreachable: {type(exc).__name__}: {exc}") from None
        probe_body = parse_body(probe.content)
        code = hec_code(probe_body)
        if probe.status_code in (401, 403) or code in FATAL_CODES:
            raise FatalSinkError(f"Splunk HEC at {where} refused the token: {refusal(probe_body, probe)}")
        return f"Splunk HEC at {where} is healthy ({describe(body, resp)}); token accepted"

    def preview(self, batch: Batch) -> str:
        """Render the first request as it would be sent (token masked, body uncompressed)."""
        dead: list[DeadLetter] = []
        first = next(iter(self._events.chunks(batch, dead)), None)
        headers = dict(self._headers)
        headers["Authorization"] = f"Splunk {_SECRET_MASK}"
        lines = [f"POST {self._event_url}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append("")
        if first is not None:
            lines.append(first.body().decode().rstrip("\n"))
        lines += [f"# dead-lettered before sending: event {d.location}: {d.reason}" for d in dead]
        return "\n".join(lines)

    # ------------------------------------------------------------------------ delivery

    def send(self, batch: Batch) -> Delivery:
        """Deliver every record of ``batch`` or dead-letter it; raise when the batch must stop.

        Up to ``concurrency`` requests are in flight; with ack on, acknowledgements of all
        outstanding requests are polled together, so waiting for acks never blocks sending.
        Safe to call from several threads at once.
        """
        if not len(batch):
            return Delivery(delivered=0)
        acks = PendingAcks(self.config.ack_timeout, self.config.ack_poll_interval)
        run = _SendRun(batch, threading.Event(), acks)
        try:
            for chunk in self._events.chunks(batch, run.dead):
                self._reap(run, block=False)
                self._submit(run, chunk, 0)
            self._settle(run)
        except BaseException as exc:
            run.stop.set()
            for fut in run.in_flight:
                fut.cancel()
            wait(list(run.in_flight))
            if isinstance(exc, _Stopped):
                # Report the failure that stopped the batch, not a request that saw the stop.
                for fut in run.in_flight:
                    cause = None if fut.cancelled() else fut.exception()
                    if cause is not None and not isinstance(cause, _Stopped):
                        raise cause from None
            raise
        return Delivery(delivered=run.delivered, dead_lettered=run.dead)

    def close(self) -> None:
        """Stop the worker threads and release connections."""
        self._closed.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._own_session:
            self._session.close()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="hec-sink")
            return self._pool

    def _submit(self, run: _SendRun, chunk: EventChunk, resends: int) -> None:
        fut = self._executor().submit(self._post, chunk, run.stop)
        run.in_flight[fut] = (chunk, resends)

    def _settle(self, run: _SendRun) -> None:
        """Drive requests and acknowledgements until every chunk is delivered or dead-lettered."""
        acks = run.acks
        acks.start_polling()
        while run.in_flight or acks:
            if run.in_flight:
                timeout = acks.seconds_to_poll() if acks else None
                self._reap(run, block=True, timeout=timeout)
            else:
                time.sleep(acks.seconds_to_poll())
            if acks.poll_due():
                acks.polled(self._poll_acks(run))

    def _reap(self, run: _SendRun, block: bool, timeout: float | None = None) -> None:
        """Collect finished requests: count, split around refused events, or wait for their ack."""
        if not run.in_flight:
            return
        if block:
            done, _ = wait(list(run.in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
        else:
            done = {f for f in run.in_flight if f.done()}
        for fut in done:
            chunk, resends = run.in_flight.pop(fut)
            kind, value, reason = fut.result()  # FatalSinkError / SinkError end the batch here
            if kind == "ok":
                if value is None:
                    run.delivered += len(chunk.positions)
                else:
                    run.acks.add(value, chunk, resends)
            elif kind == "bad_event":
                run.dead.append(self._dead_letter(run.batch, chunk.positions[value], reason))
                rest = EventChunk(chunk.positions[:value] + chunk.positions[value + 1 :],
                                  chunk.lines[:value] + chunk.lines[value + 1 :])
                if rest.positions:
                    self._submit(run, rest, resends)
            elif len(chunk.positions) == 1:  # "split" down to one event: that event is refused
                run.dead.append(self._dead_letter(run.batch, chunk.positions[0], reason))
            else:
                half = len(chunk.positions) // 2
                self._submit(run, EventChunk(chunk.positions[:half], chunk.lines[:half]), resends)
                self._submit(run, EventChunk(chunk.positions[half:], chunk.lines[half:]), resends)

    def _poll_acks(self, run: _SendRun) -> bool:
        """Ask for every outstanding ack at once; resend chunks whose ack is overdue."""
        acked = self._acks.indexed(list(run.acks.waiting))
        run.delivered += run.acks.confirm(acked)
        for ack_id, chunk, resends in run.acks.take_overdue():
            resends += 1
            if resends > self.config.max_retries:
                raise SinkError(
                    f"Splunk HEC at {self.config.hec_url} did not acknowledge {len(chunk.lines)} events "
                    f"after {resends} sends of {self.config.ack_timeout:g}s each"
                )
            log.warning(
                "hec ack timeout; resending",
                extra={"ack_id": ack_id, "events": len(chunk.lines), "resend": resends},
            )
            with self._lock:
                self.stats.resends += 1
            self._submit(run, chunk, resends)
        return bool(acked)

    def _post(self, chunk: EventChunk, stop: threading.Event) -> tuple[str, Any, str]:
        try:
            return self._post_classified(chunk, stop)
        except SinkError:
            stop.set()  # requests still queued for this batch must not go out
            raise

    def _post_classified(self, chunk: EventChunk, stop: threading.Event) -> tuple[str, Any, str]:
        """POST one request with retries on transient answers; classify the final answer.

        Returns ("ok", ack_id or None, ""), ("bad_event", position in chunk, reason) or
        ("split", None, reason); raises FatalSinkError or SinkError.
        """
        body = chunk.body()
        raw_size = len(body)
        if self._gzip is not None:
            body = self._gzip(body)
        cfg = self.config
        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(cfg.max_retries + 1) | stop_after_delay(cfg.retry_max_seconds),
            wait=wait_exponential(multiplier=cfg.retry_backoff, max=30.0) + wait_random(0, cfg.retry_backoff),
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            resp = retrying(self._post_once, body, stop)
        except _Retryable as exc:
            raise SinkError(
                f"Splunk HEC at {self.config.hec_url} did not accept {len(chunk.lines)} events after "
                f"{self.config.max_retries + 1} attempts or {self.config.retry_max_seconds:g}s: {exc}"
            ) from None
        payload = parse_body(resp.content)
        status = resp.status_code
        with self._lock:
            self.stats.retries += retrying.statistics.get("attempt_number", 1) - 1
        if status == 200:
            with self._lock:
                self.stats.requests += 1
                self.stats.events += len(chunk.lines)
                self.stats.raw_bytes += raw_size
                self.stats.sent_bytes += len(body)
            ack_id = payload.get("ackId") if isinstance(payload, dict) else None
            if self.config.ack:
                if not isinstance(ack_id, int):
                    raise FatalSinkError(
                        f"Splunk HEC at {self.config.hec_url} returned no ackId although ack is on: "
                        "enable indexer acknowledgement on the token or set splunk_hec.ack to false"
                    )
                return ("ok", ack_id, "")
            return ("ok", None, "")
        code = hec_code(payload)
        if status in (401, 403) or code in FATAL_CODES:
            raise FatalSinkError(
                f"Splunk HEC at {self.config.hec_url} refused the batch: {refusal(payload, resp)}"
            )
        if status == 413:
            reason = f"HTTP 413 {describe(payload, resp)}: event larger than max_content_length"
            return ("split", None, reason)
        if status == 400:
            number = payload.get("invalid-event-number") if isinstance(payload, dict) else None
            reason = f"HEC refused the event: {describe(payload, resp)}"
            if isinstance(number, int) and 0 <= number < len(chunk.lines):
                return ("bad_event", number, reason)
            if code in EVENT_CODES or code is None:
                # No event number: halve the request until the refused events are isolated.
                return ("split", None, reason)
        raise FatalSinkError(
            f"Splunk HEC at {self.config.hec_url} answered HTTP {status} {describe(payload, resp)}; "
            "check splunk_hec.hec_url"
        )

    def _post_once(self, body: bytes, stop: threading.Event) -> requests.Response:
        if stop.is_set() or self._closed.is_set():
            raise _Stopped("Splunk HEC sink is stopping")
        try:
            resp = self._session.post(
                self._event_url,
                data=body,
                headers=self._headers,
                verify=self._verify,
                timeout=self.config.request_timeout,
            )
        except requests.exceptions.SSLError as exc:
            raise _tls_failure(self.config.hec_url, exc) from None
        except TRANSIENT_ERRORS as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        status = resp.status_code
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status} {describe(parse_body(resp.content), resp)}")
        return resp

    def _plain_headers(self) -> dict[str, str]:
        headers = dict(self._headers)
        headers.pop("Content-Encoding", None)
        return headers

    @staticmethod
    def _dead_letter(batch: Batch, position: int, reason: str) -> DeadLetter:
        return DeadLetter(
            record=batch.docs[position],
            reason=reason,
            origin=batch.origins[position],
            location=f"batch position {position}",
        )


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    log.warning(
        "hec request failed; retrying",
        extra={"attempt": state.attempt_number, "error": str(exc), "sleep": state.upcoming_sleep},
    )


__all__ = ["HecSink", "HecSinkConfig", "HecSinkStats"]
