"""Splunk HTTP Event Collector sink: gzip-batched JSON events, indexer acknowledgement, retries.

Two output modes share one delivery engine. ``ecs`` sends the normalized document with the
``aws:connector:*`` sourcetypes; ``splunk_ta_aws`` sends the original AWS record with the Splunk
Add-on for AWS sourcetypes (plus GeoIP results as indexed fields), so sites that already run that
add-on keep their CIM extractions.
"""

from __future__ import annotations

import calendar
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any, Literal

import orjson
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

from connector.errors import ConfigError, FatalSinkError, SinkError
from connector.gzip_codec import gzip_compressor
from connector.sinks.base import DATASETS, Batch, DeadLetter, Delivery

log = logging.getLogger(__name__)

Mode = Literal["ecs", "splunk_ta_aws"]

ECS_SOURCETYPES: Mapping[str, str] = {
    "aws.vpcflow": "aws:connector:vpcflow",
    "aws.cloudtrail": "aws:connector:cloudtrail",
    "aws.config": "aws:connector:config",
}
TA_SOURCETYPES: Mapping[str, str] = {
    "aws.vpcflow": "aws:cloudwatchlogs:vpcflow",
    "aws.cloudtrail": "aws:cloudtrail",
    "aws.config": "aws:config",
}
TA_CONFIG_NOTIFICATION = "aws:config:notification"

# GeoIP results copied into indexed fields in splunk_ta_aws mode: the add-on's own extractions
# know nothing about geo, and indexed fields make them usable in tstats.
GEO_FIELDS: tuple[str, ...] = tuple(
    f"{side}.{leaf}"
    for side in ("source", "destination")
    for leaf in (
        "geo.country_iso_code",
        "geo.country_name",
        "geo.region_name",
        "geo.city_name",
        "geo.continent_name",
        "geo.location.lat",
        "geo.location.lon",
        "as.number",
        "as.organization.name",
    )
)

# HEC status codes (from the response body) that refuse every request with this configuration;
# retrying or dead-lettering cannot help, so the run stops.
_FATAL_CODES: Mapping[int, str] = {
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
_EVENT_CODES = frozenset({6, 12, 13, 15})
_SECRET_MASK = "********"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class HecSinkConfig:
    """Every HEC sink option, validated once at start; the token is kept out of ``repr``."""

    hec_url: str
    token: str = field(repr=False)
    mode: Mode = "ecs"
    indexes: Mapping[str, str] = field(default_factory=dict)
    default_index: str | None = None
    host: str = field(default_factory=socket.gethostname)
    batch_events: int = 5000
    batch_bytes: int = 900_000
    flush_interval: float = 1.0
    ack: bool = False
    ack_timeout: float = 60.0
    ack_poll_interval: float = 1.0
    concurrency: int = 4
    verify_tls: bool = True
    ca_bundle: str | None = None
    indexed_fields: tuple[str, ...] = ()
    max_retries: int = 8
    retry_max_seconds: float = 120.0
    retry_backoff: float = 0.5
    request_timeout: float = 30.0
    gzip: bool = True
    compression_level: int = 1

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], env: Mapping[str, str]) -> HecSinkConfig:
        """Build from the ``splunk_hec`` config section; ``SPLUNK_HEC_TOKEN`` fills a missing token."""
        known = {f for f in cls.__dataclass_fields__} | {"type"}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ConfigError(f"splunk_hec: unknown option(s) {', '.join(unknown)}")
        s = _SettingsReader(settings)
        url = s.text("hec_url", required=True)
        assert url is not None
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"splunk_hec.hec_url must start with http:// or https://, got {url!r}")
        url = url.rstrip("/")
        for suffix in ("/services/collector/event", "/services/collector"):
            if url.endswith(suffix):
                url = url[: -len(suffix)]
        token = s.text("token") or env.get("SPLUNK_HEC_TOKEN") or ""
        if not token.strip():
            raise ConfigError(
                "splunk_hec.token is missing: set it in the config file or in SPLUNK_HEC_TOKEN"
            )
        mode = s.text("mode") or "ecs"
        if mode not in ("ecs", "splunk_ta_aws"):
            raise ConfigError(f"splunk_hec.mode must be 'ecs' or 'splunk_ta_aws', got {mode!r}")
        ca_bundle = s.text("ca_bundle")
        if ca_bundle is not None and not os.path.isfile(ca_bundle):
            raise ConfigError(f"splunk_hec.ca_bundle: no such file {ca_bundle!r}")
        return cls(
            hec_url=url,
            token=token.strip(),
            mode="ecs" if mode == "ecs" else "splunk_ta_aws",
            indexes=s.indexes("indexes"),
            default_index=s.index_name("default_index"),
            host=s.text("host") or socket.gethostname(),
            batch_events=s.integer("batch_events", 5000, low=1),
            batch_bytes=s.integer("batch_bytes", 900_000, low=1024),
            flush_interval=s.number("flush_interval", 1.0, low=0.01),
            ack=s.boolean("ack", False),
            ack_timeout=s.number("ack_timeout", 60.0, low=0.01),
            ack_poll_interval=s.number("ack_poll_interval", 1.0, low=0.001),
            concurrency=s.integer("concurrency", 4, low=1, high=64),
            verify_tls=s.boolean("verify_tls", True),
            ca_bundle=ca_bundle,
            indexed_fields=s.names("indexed_fields"),
            max_retries=s.integer("max_retries", 8, low=0),
            retry_max_seconds=s.number("retry_max_seconds", 120.0, low=0.0),
            retry_backoff=s.number("retry_backoff", 0.5, low=0.0),
            request_timeout=s.number("request_timeout", 30.0, low=0.1),
            gzip=s.boolean("gzip", True),
            compression_level=s.integer("compression_level", 1, low=1, high=9),
        )


class _SettingsReader:
    """Typed reads of one settings mapping, each error naming the key."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._s = settings

    def _bad(self, key: str, want: str, value: Any) -> ConfigError:
        return ConfigError(f"splunk_hec.{key} must be {want}, got {value!r}")

    def text(self, key: str, required: bool = False) -> str | None:
        value = self._s.get(key)
        if value is None or value == "":
            if required:
                raise ConfigError(f"splunk_hec.{key} is required")
            return None
        if not isinstance(value, str):
            # Never echo the value: this key may be the token.
            raise ConfigError(f"splunk_hec.{key} must be a string")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._s.get(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise self._bad(key, "true or false", value)

    def integer(self, key: str, default: int, low: int, high: int | None = None) -> int:
        value = self._s.get(key, default)
        try:
            if isinstance(value, bool | float):
                raise ValueError
            number = int(value)
        except (TypeError, ValueError):
            raise self._bad(key, "an integer", value) from None
        if number < low or (high is not None and number > high):
            span = f">= {low}" if high is None else f"between {low} and {high}"
            raise self._bad(key, f"an integer {span}", value)
        return number

    def number(self, key: str, default: float, low: float) -> float:
        value = self._s.get(key, default)
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            raise self._bad(key, "a number of seconds", value) from None
        if number < low or number != number:
            raise self._bad(key, f"a number >= {low}", value)
        return number

    def index_name(self, key: str, value: Any = None) -> str | None:
        value = self._s.get(key) if value is None else value
        if value is None or value == "":
            return None
        if not isinstance(value, str) or value.strip() != value or not value:
            raise self._bad(key, "an index name", value)
        return value

    def indexes(self, key: str) -> Mapping[str, str]:
        value = self._s.get(key) or {}
        if not isinstance(value, Mapping):
            raise self._bad(key, "a map of dataset to index", value)
        result: dict[str, str] = {}
        for dataset, index in value.items():
            if dataset not in DATASETS:
                raise ConfigError(
                    f"splunk_hec.{key}: unknown dataset {dataset!r}; use one of {', '.join(DATASETS)}"
                )
            name = self.index_name(f"{key}.{dataset}", index)
            if name is not None:
                result[dataset] = name
        return result

    def names(self, key: str) -> tuple[str, ...]:
        value = self._s.get(key) or ()
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, Sequence) or not all(isinstance(v, str) and v for v in value):
            raise self._bad(key, "a list of field names", value)
        return tuple(value)


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


_FIRST_ACK_POLL = 0.005


@dataclass(slots=True)
class _SendRun:
    """State of one ``send`` call, so that concurrent calls share nothing but the pool."""

    batch: Batch
    stop: threading.Event
    delivered: int = 0
    dead: list[DeadLetter] = field(default_factory=list)
    in_flight: dict[Future[tuple[str, Any, str]], tuple[_Chunk, int]] = field(default_factory=dict)
    awaiting: dict[int, tuple[_Chunk, float, int]] = field(default_factory=dict)


# An event line in three parts: '{"time":T,...,"event":', the document's own bytes, and '}' with
# the newline. The request body is joined from the parts once, so a ~1 KB document is copied
# once instead of into a line of its own first.
_Event = tuple[bytes, bytes, bytes]
_END = b"}\n"


@dataclass(slots=True)
class _Chunk:
    """One HEC request: batch positions and their rendered events."""

    positions: list[int]
    lines: list[_Event]
    size: int = 0

    def body(self) -> bytes:
        """Newline-terminated event lines, as HEC's /services/collector/event reads them."""
        return b"".join(chain.from_iterable(self.lines))


class HecSink:
    """Sends batches to Splunk HEC; ``send`` returns when every event is acked or dead-lettered."""

    waits_on_io = True

    def __init__(self, config: HecSinkConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.channel = str(uuid.uuid4())
        self._event_url = config.hec_url + "/services/collector/event"
        self._ack_url = config.hec_url + "/services/collector/ack"
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
        self._sourcetypes = ECS_SOURCETYPES if config.mode == "ecs" else TA_SOURCETYPES
        self._prefixes: dict[tuple[str, str, str], bytes] = {}
        self._times: dict[str, bytes] = {}
        self._seconds: dict[str, int] = {}
        self._field_paths = tuple(
            (name, tuple(name.split("."))) for name in dict.fromkeys(self._indexed_field_names())
        )

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
        body = _parse_body(resp.content)
        if resp.status_code in (401, 403):
            raise FatalSinkError(f"Splunk HEC at {where} refused the token: {_refusal(body, resp)}")
        if resp.status_code != 200:
            raise SinkError(
                f"Splunk HEC at {where} is not healthy: HTTP {resp.status_code} {_describe(body, resp)}"
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
        probe_body = _parse_body(probe.content)
        code = _code(probe_body)
        if probe.status_code in (401, 403) or code in _FATAL_CODES:
            raise FatalSinkError(f"Splunk HEC at {where} refused the token: {_refusal(probe_body, probe)}")
        return f"Splunk HEC at {where} is healthy ({_describe(body, resp)}); token accepted"

    def preview(self, batch: Batch) -> str:
        """Render the first request as it would be sent (token masked, body uncompressed)."""
        dead: list[DeadLetter] = []
        first = next(iter(self._chunks(batch, dead)), None)
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
        run = _SendRun(batch, threading.Event())
        try:
            for chunk in self._chunks(batch, run.dead):
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

    def _submit(self, run: _SendRun, chunk: _Chunk, resends: int) -> None:
        fut = self._executor().submit(self._post, chunk, run.stop)
        run.in_flight[fut] = (chunk, resends)

    def _settle(self, run: _SendRun) -> None:
        """Drive requests and acknowledgements until every chunk is delivered or dead-lettered."""
        poll_delay = _FIRST_ACK_POLL
        next_poll = time.monotonic() + poll_delay
        while run.in_flight or run.awaiting:
            if run.in_flight:
                timeout = max(0.0, next_poll - time.monotonic()) if run.awaiting else None
                self._reap(run, block=True, timeout=timeout)
            else:
                time.sleep(max(0.0, next_poll - time.monotonic()))
            if run.awaiting and time.monotonic() >= next_poll:
                if self._poll_acks(run):
                    poll_delay = _FIRST_ACK_POLL
                else:
                    poll_delay = min(poll_delay * 2, self.config.ack_poll_interval)
                next_poll = time.monotonic() + poll_delay

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
                    run.awaiting[value] = (chunk, time.monotonic() + self.config.ack_timeout, resends)
            elif kind == "bad_event":
                run.dead.append(self._dead_letter(run.batch, chunk.positions[value], reason))
                rest = _Chunk(chunk.positions[:value] + chunk.positions[value + 1 :],
                              chunk.lines[:value] + chunk.lines[value + 1 :])
                if rest.positions:
                    self._submit(run, rest, resends)
            elif len(chunk.positions) == 1:  # "split" down to one event: that event is refused
                run.dead.append(self._dead_letter(run.batch, chunk.positions[0], reason))
            else:
                half = len(chunk.positions) // 2
                self._submit(run, _Chunk(chunk.positions[:half], chunk.lines[:half]), resends)
                self._submit(run, _Chunk(chunk.positions[half:], chunk.lines[half:]), resends)

    def _poll_acks(self, run: _SendRun) -> bool:
        """Ask for every outstanding ack at once; resend chunks whose ack is overdue."""
        ids = list(run.awaiting)
        acked: set[int] = set()
        for start in range(0, len(ids), 1000):
            acked |= self._query_acks(ids[start : start + 1000])
        for ack_id in acked:
            chunk, _, _ = run.awaiting.pop(ack_id)
            run.delivered += len(chunk.positions)
        now = time.monotonic()
        for ack_id in [a for a, (_, deadline, _) in run.awaiting.items() if deadline <= now]:
            chunk, _, resends = run.awaiting.pop(ack_id)
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

    def _query_acks(self, ids: list[int]) -> set[int]:
        try:
            resp = self._session.post(
                self._ack_url,
                data=orjson.dumps({"acks": ids}),
                headers=self._plain_headers(),
                verify=self._verify,
                timeout=self.config.request_timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            # A lost poll costs nothing: the next one asks again, and the ack timeout still holds.
            log.warning("hec ack poll failed", extra={"error": type(exc).__name__})
            return set()
        payload = _parse_body(resp.content)
        if resp.status_code in (401, 403) or _code(payload) in _FATAL_CODES:
            raise FatalSinkError(
                f"Splunk HEC at {self.config.hec_url} refused the ack query: {_refusal(payload, resp)}"
            )
        if resp.status_code != 200 or not isinstance(payload, dict):
            return set()
        acks = payload.get("acks")
        if not isinstance(acks, dict):
            return set()
        return {ack_id for ack_id in ids if acks.get(str(ack_id)) is True}

    def _post(self, chunk: _Chunk, stop: threading.Event) -> tuple[str, Any, str]:
        try:
            return self._post_classified(chunk, stop)
        except SinkError:
            stop.set()  # requests still queued for this batch must not go out
            raise

    def _post_classified(self, chunk: _Chunk, stop: threading.Event) -> tuple[str, Any, str]:
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
        payload = _parse_body(resp.content)
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
        code = _code(payload)
        if status in (401, 403) or code in _FATAL_CODES:
            raise FatalSinkError(
                f"Splunk HEC at {self.config.hec_url} refused the batch: {_refusal(payload, resp)}"
            )
        if status == 413:
            reason = f"HTTP 413 {_describe(payload, resp)}: event larger than max_content_length"
            return ("split", None, reason)
        if status == 400:
            number = payload.get("invalid-event-number") if isinstance(payload, dict) else None
            reason = f"HEC refused the event: {_describe(payload, resp)}"
            if isinstance(number, int) and 0 <= number < len(chunk.lines):
                return ("bad_event", number, reason)
            if code in _EVENT_CODES or code is None:
                # No event number: halve the request until the refused events are isolated.
                return ("split", None, reason)
        raise FatalSinkError(
            f"Splunk HEC at {self.config.hec_url} answered HTTP {status} {_describe(payload, resp)}; "
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
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        status = resp.status_code
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status} {_describe(_parse_body(resp.content), resp)}")
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

    # ----------------------------------------------------------------------- rendering

    def _chunks(self, batch: Batch, dead: list[DeadLetter]) -> Iterator[_Chunk]:
        """Render events and cut them into requests by event count and uncompressed bytes."""
        max_events = self.config.batch_events
        max_bytes = self.config.batch_bytes
        positions: list[int] = []
        lines: list[_Event] = []
        size = 0
        render = self._render_event
        for i, line in enumerate(render(batch, dead)):
            if line is None:
                continue
            n = len(line[0]) + len(line[1]) + len(line[2])
            if lines and (len(lines) >= max_events or size + n > max_bytes):
                yield _Chunk(positions, lines, size)
                positions, lines, size = [], [], 0
            positions.append(i)
            lines.append(line)
            size += n
        if lines:
            yield _Chunk(positions, lines, size)

    def _render_event(self, batch: Batch, dead: list[DeadLetter]) -> Iterator[_Event | None]:
        """Yield one HEC event per record (None for a record that was dead-lettered)."""
        dumps = orjson.dumps
        prefixes = self._prefixes
        epoch = self._epoch
        ta_mode = self.config.mode == "splunk_ta_aws"
        field_paths = self._field_paths
        datasets, origins, originals = batch.datasets, batch.origins, batch.originals
        docs, encoded, timestamps = batch.docs, batch.encoded, batch.timestamps
        for i, encoded_doc in enumerate(encoded):
            dataset = datasets[i]
            origin = origins[i]
            sourcetype = self._sourcetypes.get(dataset)
            if sourcetype is None:
                dead.append(DeadLetter(docs[i], f"unknown dataset {dataset!r} for Splunk HEC", origin,
                                       f"batch position {i}"))
                yield None
                continue
            if ta_mode and dataset == "aws.config" and _is_config_notification(docs[i], origin):
                sourcetype = TA_CONFIG_NOTIFICATION
            key = (dataset, origin, sourcetype)
            prefix = prefixes.get(key)
            if prefix is None:
                prefix = self._prefix(dataset, origin, sourcetype)
            try:
                if ta_mode:
                    original = originals[i]
                    if original is None:
                        dead.append(DeadLetter(docs[i], "splunk_ta_aws mode needs the original AWS record, "
                                               "but none was kept", origin, f"batch position {i}"))
                        yield None
                        continue
                    body = dumps(original)
                else:
                    body = encoded_doc
                ts = timestamps[i]
                t = epoch(ts) if ts else b""
                head = b'{"time":' + t + prefix if t else b"{" + prefix[1:]
                if field_paths:
                    fields = _pick_fields(docs[i], field_paths)
                    if fields:
                        yield head, body, b',"fields":' + dumps(fields) + _END
                        continue
                yield head, body, _END
            except (TypeError, orjson.JSONEncodeError) as exc:
                reason = f"cannot serialize to JSON: {exc}"
                dead.append(DeadLetter(docs[i], reason, origin, f"batch position {i}"))
                yield None

    def _prefix(self, dataset: str, origin: str, sourcetype: str) -> bytes:
        meta: dict[str, str] = {"host": self.config.host, "source": origin, "sourcetype": sourcetype}
        index = self.config.indexes.get(dataset) or self.config.default_index
        if index:
            meta["index"] = index
        # ',"host":...,"event":' so an event line is '{"time":T' + prefix + doc + '}'.
        prefix = b"," + orjson.dumps(meta)[1:-1] + b',"event":'
        if len(self._prefixes) > 4096:
            self._prefixes.clear()
        self._prefixes[(dataset, origin, sourcetype)] = prefix
        return prefix

    def _epoch(self, ts: str) -> bytes:
        """``@timestamp`` to HEC ``time`` (epoch seconds with milliseconds), cached per string."""
        cached = self._times.get(ts)
        if cached is not None:
            return cached
        text = _epoch_text(ts, self._seconds)
        if len(self._times) > 65536:
            self._times.clear()
            self._seconds.clear()
        self._times[ts] = text
        return text

    def _indexed_field_names(self) -> tuple[str, ...]:
        names = tuple(self.config.indexed_fields)
        if self.config.mode == "splunk_ta_aws":
            names = GEO_FIELDS + names
        return names


def _epoch_text(ts: str, seconds_cache: dict[str, int]) -> bytes:
    """Parse an ISO 8601 UTC string; the common ``YYYY-MM-DDTHH:MM:SS[.fff]Z`` shape is sliced."""
    if len(ts) >= 20 and ts[-1] == "Z" and ts[10] == "T" and (len(ts) == 20 or ts[19] == "."):
        head = ts[:19]
        base = seconds_cache.get(head)
        if base is None:
            try:
                base = calendar.timegm(
                    (int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), int(ts[11:13]), int(ts[14:16]),
                     int(ts[17:19]), 0, 0, 0)
                )
            except ValueError:
                return b""
            seconds_cache[head] = base
        frac = ts[20:-1]
        if frac and not frac.isdigit():
            return b""
        millis = int((frac + "000")[:3]) if frac else 0
        return b"%d.%03d" % (base, millis)
    try:
        parsed = datetime.fromisoformat(ts)
    except ValueError:
        return b""
    if parsed.tzinfo is None:
        return b""
    return b"%.3f" % parsed.timestamp()


def _is_config_notification(doc: Mapping[str, Any], origin: str) -> bool:
    """Config notifications (SQS/SNS messages) versus Config items (history/snapshot files in S3).

    The document decides when it can: a Config ``messageType`` (``aws.config.message_type``) or an
    ``event.action`` ending in ``Notification``. Otherwise the origin does: records that came
    through SQS or SNS are notifications, records read from files are items.
    """
    aws = doc.get("aws")
    if isinstance(aws, dict):
        config = aws.get("config")
        if isinstance(config, dict) and config.get("message_type"):
            return True
    if doc.get("aws.config.message_type"):
        return True
    event = doc.get("event")
    action = event.get("action") if isinstance(event, dict) else doc.get("event.action")
    if isinstance(action, str) and action.endswith("Notification"):
        return True
    return origin.startswith(("sqs://", "sns://"))


def _pick_fields(doc: Mapping[str, Any], paths: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, Any]:
    """Flat values for HEC indexed fields; nested objects and missing keys are skipped."""
    fields: dict[str, Any] = {}
    for name, parts in paths:
        value: Any = doc.get(name)
        if value is None:
            value = doc
            for part in parts:
                if not isinstance(value, dict):
                    value = None
                    break
                value = value.get(part)
        if value is None or isinstance(value, dict):
            continue
        if isinstance(value, list):
            value = [v if isinstance(v, str) else orjson.dumps(v).decode() for v in value
                     if not isinstance(v, dict | list)]
            if not value:
                continue
        fields[name] = value
    return fields


def _parse_body(content: bytes) -> Any:
    try:
        return orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return None


def _code(payload: Any) -> int | None:
    if isinstance(payload, dict):
        code = payload.get("code")
        if isinstance(code, int):
            return code
    return None


def _describe(payload: Any, resp: requests.Response) -> str:
    if isinstance(payload, dict) and "text" in payload:
        code = payload.get("code")
        return f"{payload['text']!s} (code {code})" if code is not None else str(payload["text"])
    text = resp.text[:200].strip()
    return text or resp.reason or ""


def _refusal(payload: Any, resp: requests.Response) -> str:
    code = _code(payload)
    meaning = _FATAL_CODES.get(code) if code is not None else None
    if meaning is None:
        meaning = "the token was refused" if resp.status_code in (401, 403) else "the request was refused"
    return f"HTTP {resp.status_code} {_describe(payload, resp)}: {meaning}"


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    log.warning(
        "hec request failed; retrying",
        extra={"attempt": state.attempt_number, "error": str(exc), "sleep": state.upcoming_sleep},
    )


__all__ = [
    "ECS_SOURCETYPES",
    "TA_CONFIG_NOTIFICATION",
    "TA_SOURCETYPES",
    "HecSink",
    "HecSinkConfig",
    "HecSinkStats",
]
