"""``forward``: the long-running service that drains SQS queues of S3, Config and CloudWatch Logs
notifications into a sink, deleting each message only after all its records are settled.

Process model: the parent receives, heartbeats and deletes messages; each worker process owns a
``RecordProcessor``, an S3 client and its own sink, and runs one message at a time through a
``Pipeline`` whose ``on_settled`` hook tells when every unit of the message is delivered or
dead-lettered. A message's records never cross a process boundary, so "settled" is decided in
the one process that delivered them, and a worker that dies takes only unacknowledged work with it.
"""

from __future__ import annotations

import argparse
import logging
import math
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from connector.config import AppConfig
from connector.dlq import DeadLetterStore
from connector.errors import ConfigError, ConnectorError, FatalSinkError
from connector.formats.base import Skipped
from connector.formats.detect import detect_from_key
from connector.pipeline import NormalizedChunk, Pipeline, RecordProcessor
from connector.sinks.base import Batch, DeadLetter, Delivery, Sink, waits_on_io
from connector.sinks.factory import SINK_KINDS, build_sink, needs_originals
from connector.sources.base import WorkUnit
from connector.sources.s3 import S3OversizedFetcher, aws_client, aws_session, s3_unit
from connector.sources.sqs import InlinePayload, MessagePlan, ReadObjects, SkipMessage, Unreadable, parse_message

log = logging.getLogger(__name__)

FORWARD_KEYS = frozenset({"queue_urls", "max_in_flight", "workers", "visibility_timeout", "wait_time_seconds",
                          "drain_seconds", "metrics_port", "metrics_host"})
SQS_MAX_BATCH = 10
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
EXIT_OK, EXIT_FAILED, EXIT_FATAL_SINK = 0, 1, 2


# --- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ForwardSettings:
    """The service's knobs: ``forward`` config section, overridden by the command line."""

    queue_urls: tuple[str, ...]
    max_in_flight: int = 4
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    visibility_timeout: int = 300
    wait_time_seconds: int = 20
    drain_seconds: float = 25.0
    metrics_port: int | None = None
    metrics_host: str = "0.0.0.0"
    max_messages: int | None = None
    idle_exit: float | None = None

    @classmethod
    def from_sources(cls, section: Mapping[str, Any], args: argparse.Namespace, where: str) -> ForwardSettings:
        """Merge the ``forward`` section with the flags; every error names the key and the file."""
        unknown = sorted(set(section) - FORWARD_KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join('forward.' + k for k in unknown)}; "
                              f"known: {', '.join(sorted(FORWARD_KEYS))}")

        def pick(flag: str, key: str, kind: Callable[[Any], Any], default: Any, low: float | None = None) -> Any:
            value = getattr(args, flag, None)
            if value is None:
                value = section.get(key, default)
            if value is None:
                return None
            try:
                value = kind(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: forward.{key} must be a {kind.__name__}, got {value!r}") from None
            if low is not None and value < low:
                raise ConfigError(f"{where}: forward.{key} must be at least {low}, got {value!r}")
            return value

        urls = list(getattr(args, "queue_url", None) or [])
        if not urls:
            configured = section.get("queue_urls") or []
            urls = [u.strip() for u in configured.split(",")] if isinstance(configured, str) else list(configured)
        urls = [str(u) for u in urls if u]
        if not urls:
            raise ConfigError(f"{where}: no queue: pass --queue-url URL or set forward.queue_urls")
        visibility = pick("visibility_timeout", "visibility_timeout", int, 300, 1)
        if visibility > 43200:
            raise ConfigError(f"{where}: forward.visibility_timeout is at most 43200 seconds (SQS limit)")
        return cls(
            queue_urls=tuple(dict.fromkeys(urls)),
            max_in_flight=pick("max_in_flight", "max_in_flight", int, 4, 1),
            workers=pick("workers", "workers", int, os.cpu_count() or 1, 1),
            visibility_timeout=visibility,
            wait_time_seconds=min(20, pick("wait_time_seconds", "wait_time_seconds", int, 20, 0)),
            drain_seconds=pick("drain_seconds", "drain_seconds", float, 25.0, 0),
            metrics_port=pick("metrics_port", "metrics_port", int, None, 0),
            metrics_host=str(section.get("metrics_host") or "0.0.0.0"),
            max_messages=pick("max_messages", "max_messages", int, None, 1),
            idle_exit=pick("idle_exit", "idle_exit", float, None, 0),
        )


# --- worker side ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageTask:
    """What a worker needs to process one message (plain data: it crosses a process boundary)."""

    message_id: str
    plan: ReadObjects | InlinePayload


@dataclass(slots=True)
class MessageResult:
    """What became of one message's records, per dataset, and how long its sink batches took."""

    units: int = 0
    records_in: Counter[str] = field(default_factory=Counter)
    records_out: Counter[str] = field(default_factory=Counter)
    dead_lettered: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    batch_seconds: list[float] = field(default_factory=list)


def _dataset_of_record(record: Any) -> str | None:
    if isinstance(record, (bytes, str)) and record[:1] in (b"{", "{"):
        # Sinks may hand back the serialized document; dead letters are rare, so parsing is cheap.
        try:
            record = orjson.loads(record)
        except orjson.JSONDecodeError:
            return None
    if isinstance(record, dict):
        event = record.get("event")
        if isinstance(event, dict) and isinstance(event.get("dataset"), str):
            return str(event["dataset"])
    return None


def _dataset_of_unit(unit: WorkUnit) -> str:
    kind = unit.type_hint if unit.type_hint and unit.type_hint != "auto" else detect_from_key(unit.key)
    return f"aws.{kind}" if kind else "unknown"


class _CountingSink:
    """Wraps the worker's sink to count delivered records per dataset and time each batch."""

    def __init__(self, inner: Sink, result: Callable[[], MessageResult]) -> None:
        self.inner = inner
        self._result = result
        self.needs_originals = needs_originals(inner)
        self.waits_on_io = waits_on_io(inner)

    def send(self, batch: Batch) -> Delivery:
        started = time.perf_counter()
        delivery = self.inner.send(batch)
        result = self._result()
        result.batch_seconds.append(time.perf_counter() - started)
        out = Counter(batch.datasets)
        for letter in delivery.dead_lettered:
            out[_dataset_of_record(letter.record) or "unknown"] -= 1
        result.records_out.update(out)
        return delivery

    def close(self) -> None:
        self.inner.close()


class _CountingDeadLetters(DeadLetterStore):
    """The dead-letter store, counting letters per dataset for the metrics."""

    def __init__(self, path: str | None, result: Callable[[], MessageResult]) -> None:
        super().__init__(path)
        self._result = result
        self.current_dataset = "unknown"

    def write(self, letters: list[DeadLetter]) -> None:
        super().write(letters)
        counts = self._result().dead_lettered
        for letter in letters:
            counts[_dataset_of_record(letter.record) or self.current_dataset] += 1


class _CountingProcessor(RecordProcessor):
    """The record processor, counting what each unit yields per dataset."""

    result: MessageResult
    dead_letters: _CountingDeadLetters

    def process(self, unit: WorkUnit) -> Iterator[NormalizedChunk | DeadLetter | Skipped]:
        dataset = _dataset_of_unit(unit)
        self.dead_letters.current_dataset = dataset
        for item in super().process(unit):
            if isinstance(item, NormalizedChunk):
                dataset = item.dataset
                self.dead_letters.current_dataset = dataset
                self.result.records_in[dataset] += len(item.docs)
            elif isinstance(item, DeadLetter):
                self.result.records_in[dataset] += 1
            else:
                self.result.skipped[dataset] += item.count
            yield item


@dataclass(frozen=True, slots=True)
class _WorkerSetup:
    config: AppConfig
    sink_kind: str
    env: Mapping[str, str]


class _WorkerState:
    """Everything one worker process keeps between messages."""

    def __init__(self, setup: _WorkerSetup) -> None:
        config = setup.config
        aws = config.section("aws")
        self.s3 = aws_client(aws_session(aws), "s3", aws)
        self.result = MessageResult()
        self.sink = _CountingSink(build_sink(setup.sink_kind, config, setup.env, check=False), lambda: self.result)
        self.dlq = _CountingDeadLetters(config.dlq_path, lambda: self.result)
        self.processor = _CountingProcessor(config, keep_raw=self.sink.needs_originals,
                                            fetch_oversized=S3OversizedFetcher(self.s3))
        self.processor.dead_letters = self.dlq
        self.batch_docs = config.pipeline.batch_docs

    def units(self, plan: ReadObjects | InlinePayload) -> list[WorkUnit]:
        if isinstance(plan, InlinePayload):
            return [plan.unit()]
        return [s3_unit(self.s3, obj.bucket, obj.key, obj.size, obj.etag) for obj in plan.objects]

    def close(self) -> None:
        for close in (self.sink.close, self.dlq.close, self.processor.close):
            try:
                close()
            except Exception:
                log.exception("closing the worker failed")


_STATE: _WorkerState | None = None


def _die_with_parent() -> None:
    # A worker outliving a killed service would keep writing records nobody will acknowledge.
    # Workers are forked by the forkserver, not by the service, so the parent-death signal of
    # the kernel does not apply; the service's end of the parent pipe closing does.
    parent = multiprocessing.parent_process()

    def watch() -> None:
        if parent is not None:
            parent.join()
        else:
            first = os.getppid()
            while os.getppid() == first:
                time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_init(setup: _WorkerSetup) -> None:
    """Build the worker's processor and sink once; the parent alone reacts to SIGINT/SIGTERM."""
    global _STATE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent()
    _STATE = _WorkerState(setup)
    from multiprocessing.util import Finalize

    Finalize(_STATE, _STATE.close, exitpriority=10)


def process_message(task: MessageTask) -> MessageResult:
    """Run one message's units through the pipeline; returns only when every unit is settled."""
    state = _STATE
    if state is None:
        raise RuntimeError("worker not initialized")
    state.result = result = MessageResult()
    state.processor.result = result
    units = state.units(task.plan)
    settled: list[WorkUnit] = []
    pipeline = Pipeline(state.processor, state.sink, state.dlq, state.batch_docs, on_settled=settled.append)
    pipeline.run(units)
    if len(settled) != len(units):
        raise RuntimeError(f"message {task.message_id}: {len(settled)} of {len(units)} units settled")
    result.units = len(units)
    return result


# --- metrics -------------------------------------------------------------------------------------


class ForwardMetrics:
    """Counters for ``/metrics`` (Prometheus text format), updated by the service threads."""

    def __init__(self, in_flight: Callable[[], int]) -> None:
        self._lock = threading.Lock()
        self._in_flight = in_flight
        self.records: dict[str, Counter[str]] = {"in": Counter(), "out": Counter(), "dead_lettered": Counter(),
                                                  "skipped": Counter()}
        self.messages: Counter[str] = Counter()
        self._buckets = [0] * len(LATENCY_BUCKETS)
        self._latency_sum = 0.0
        self._latency_count = 0
        self.queue_lag = 0.0
        self.healthy = True

    def add_result(self, result: MessageResult) -> None:
        """Fold one message's counts in."""
        with self._lock:
            self.records["in"].update(result.records_in)
            self.records["out"].update(result.records_out)
            self.records["dead_lettered"].update(result.dead_lettered)
            self.records["skipped"].update(result.skipped)
            for seconds in result.batch_seconds:
                self._latency_sum += seconds
                self._latency_count += 1
                for i, bound in enumerate(LATENCY_BUCKETS):
                    if seconds <= bound:
                        self._buckets[i] += 1

    def message(self, outcome: str, lag: float | None = None) -> None:
        """Count a message by what became of it; ``lag`` is now minus its SentTimestamp."""
        with self._lock:
            self.messages[outcome] += 1
            if lag is not None:
                self.queue_lag = max(lag, 0.0)

    def render(self) -> str:
        """The Prometheus exposition text."""
        lines: list[str] = []
        with self._lock:
            for kind, help_text in (("in", "records read from the source"),
                                    ("out", "records accepted by the sink"),
                                    ("dead_lettered", "records written to the dead-letter store"),
                                    ("skipped", "records or objects skipped by a named rule")):
                name = f"aws_siem_connector_records_{kind}_total"
                lines += [f"# HELP {name} {help_text.capitalize()}.", f"# TYPE {name} counter"]
                lines += [f'{name}{{dataset="{ds}"}} {n}' for ds, n in sorted(self.records[kind].items())]
            name = "aws_siem_connector_messages_total"
            lines += [f"# HELP {name} SQS messages by outcome.", f"# TYPE {name} counter"]
            lines += [f'{name}{{outcome="{o}"}} {n}' for o, n in sorted(self.messages.items())]
            name = "aws_siem_connector_batch_latency_seconds"
            lines += [f"# HELP {name} Time a sink took to settle one batch.", f"# TYPE {name} histogram"]
            cumulative = 0
            for bound, count in zip(LATENCY_BUCKETS, self._buckets, strict=True):
                cumulative = count
                lines.append(f'{name}_bucket{{le="{bound}"}} {cumulative}')
            lines += [f'{name}_bucket{{le="+Inf"}} {self._latency_count}', f"{name}_sum {self._latency_sum:.6f}",
                      f"{name}_count {self._latency_count}"]
            lines += ["# HELP aws_siem_connector_queue_lag_seconds Age of the last received message.",
                      "# TYPE aws_siem_connector_queue_lag_seconds gauge",
                      f"aws_siem_connector_queue_lag_seconds {self.queue_lag:.3f}"]
        lines += ["# HELP aws_siem_connector_in_flight_messages Messages received and not yet settled.",
                  "# TYPE aws_siem_connector_in_flight_messages gauge",
                  f"aws_siem_connector_in_flight_messages {self._in_flight()}"]
        return "\n".join(lines) + "\n"


def _serve_metrics(metrics: ForwardMetrics, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] == "/metrics":
                self._answer(200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8")
            elif self.path.split("?", 1)[0] == "/healthz":
                ok = metrics.healthy
                self._answer(200 if ok else 503, "ok\n" if ok else "unhealthy\n", "text/plain")
            else:
                self._answer(404, "not found\n", "text/plain")

        def _answer(self, status: int, body: str, content_type: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # scrapes every few seconds would drown the service log

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


# --- parent side ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _InFlight:
    queue_url: str
    message_id: str
    receipt: str
    future: Future[MessageResult] | None = None


class _Slots:
    """Counts free in-flight places; receivers take several at once for one batched receive."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._cond = threading.Condition()

    def take(self, most: int, timeout: float) -> int:
        with self._cond:
            if not self._cond.wait_for(lambda: self._free > 0, timeout):
                return 0
            n = min(most, self._free)
            self._free -= n
            return n

    def give(self, n: int = 1) -> None:
        if n > 0:
            with self._cond:
                self._free += n
                self._cond.notify_all()


class ForwardService:
    """Receives messages, hands them to worker processes, heartbeats and deletes them."""

    def __init__(self, settings: ForwardSettings, config: AppConfig, sink_kind: str, env: Mapping[str, str]) -> None:
        self.settings = settings
        self._config = config
        self._sink_kind = sink_kind
        self._env = env
        self._lock = threading.Lock()
        self._in_flight: dict[str, _InFlight] = {}
        self._slots = _Slots(settings.max_in_flight)
        self._stop = threading.Event()
        self._force = threading.Event()
        self._completions: queue.Queue[tuple[_InFlight, Future[MessageResult]] | None] = queue.Queue()
        self._received = 0
        self._reserved = 0  # places asked for by receive calls still under way
        self._settled = 0
        self._killing = False
        self._last_activity = time.monotonic()
        self._fatal: BaseException | None = None
        self._broken: BaseException | None = None
        self.metrics = ForwardMetrics(lambda: len(self._in_flight))
        self.metrics_server: ThreadingHTTPServer | None = None
        self._sqs: Any = None
        self._dlq: DeadLetterStore | None = None
        self._executor: ProcessPoolExecutor | None = None

    # lifecycle

    def run(self) -> int:
        """Serve until stopped (signal, --max-messages, --idle-exit, fatal sink error); the exit code."""
        # Probe the sink once here, so a bad URL or token fails at start, not in every worker.
        build_sink(self._sink_kind, self._config, self._env, check=True).close()
        aws = self._config.section("aws")
        self._sqs = aws_client(aws_session(aws), "sqs", aws)
        self._dlq = DeadLetterStore(self._config.dlq_path)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["connector.forward"])
        self._executor = ProcessPoolExecutor(
            max_workers=self.settings.workers, mp_context=context, initializer=_worker_init,
            initargs=(_WorkerSetup(self._config, self._sink_kind, dict(self._env)),))
        if self.settings.metrics_port is not None:
            self.metrics_server = _serve_metrics(self.metrics, self.settings.metrics_host, self.settings.metrics_port)
            log.info("metrics on http://%s:%d/metrics", self.settings.metrics_host,
                     self.metrics_server.server_address[1])
        threads = [threading.Thread(target=self._acknowledge, name="ack", daemon=True),
                   threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True)]
        receivers = [threading.Thread(target=self._receive, args=(url,), name=f"receive-{i}", daemon=True)
                     for i, url in enumerate(self.settings.queue_urls)]
        # The idle clock starts when receiving starts, not before the (slow, cold) set-up above.
        self._last_activity = time.monotonic()
        for thread in threads + receivers:
            thread.start()
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        log.info("forwarding from %s to %s sink: %d workers, %d messages in flight, visibility %ds",
                 ", ".join(self.settings.queue_urls), self._sink_kind, self.settings.workers,
                 self.settings.max_in_flight, self.settings.visibility_timeout)
        try:
            while not self._stop.wait(0.2):
                self._check_done()
            self._shut_down()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._completions.put(None)
            threads[0].join(timeout=10)
            if self.metrics_server is not None:
                self.metrics_server.shutdown()
            self._dlq.close()
        counts = self.metrics.records
        log.info("stopped: %d messages received, %d settled; records in %d, out %d, dead-lettered %d",
                 self._received, self._settled, sum(counts["in"].values()), sum(counts["out"].values()),
                 sum(counts["dead_lettered"].values()))
        if self._fatal is not None:
            log.error("sink refused delivery, nothing more deleted: %s", self._fatal)
            return EXIT_FATAL_SINK
        return EXIT_FAILED if self._broken is not None else EXIT_OK

    def stop(self, reason: str) -> None:
        """Stop receiving and begin the drain."""
        if not self._stop.is_set():
            log.info("stopping: %s", reason)
        self._stop.set()

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if self._stop.is_set():
            self._force.set()  # a second signal: release in-flight messages now
        self.stop(f"received {signal.Signals(signum).name}")

    def _check_done(self) -> None:
        settings = self.settings
        with self._lock:
            idle = not self._in_flight
            received = self._received
            receiving = self._reserved > 0
        if settings.max_messages is not None and received >= settings.max_messages and idle and not receiving:
            self.stop(f"{received} messages processed (--max-messages)")
        elif settings.idle_exit is not None and idle and \
                time.monotonic() - self._last_activity >= settings.idle_exit:
            self.stop(f"queue empty for {settings.idle_exit:g}s (--idle-exit)")

    def _shut_down(self) -> None:
        executor = self._executor
        assert executor is not None
        self.metrics.healthy = False
        with self._lock:
            pending = list(self._in_flight.values())
        for entry in pending:
            if entry.future is not None and entry.future.cancel():
                self._release([entry], "not started")
        deadline = time.monotonic() + self.settings.drain_seconds
        while self._in_flight and self._fatal is None and self._broken is None and not self._force.is_set() \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._lock:
            left = list(self._in_flight.values())
        if left:
            if self._fatal is None:
                self._release(left, "still in work at shutdown")
            self._killing = True
            for process in list(getattr(executor, "_processes", {}).values()):
                process.kill()
        executor.shutdown(wait=True, cancel_futures=True)

    # receiving

    def _receive(self, queue_url: str) -> None:
        settings = self.settings
        while not self._stop.is_set():
            wanted = self._slots.take(SQS_MAX_BATCH, timeout=0.5)
            if not wanted:
                continue
            with self._lock:
                if settings.max_messages is not None:
                    budget = max(settings.max_messages - self._received - self._reserved, 0)
                    self._slots.give(max(wanted - budget, 0))
                    wanted = min(wanted, budget)
                self._reserved += wanted
            if not wanted:
                self._stop.wait(0.5)
                continue
            wait = settings.wait_time_seconds
            if settings.idle_exit is not None:
                wait = max(1, min(wait, math.ceil(settings.idle_exit)))
            try:
                response = self._sqs.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=wanted, WaitTimeSeconds=wait,
                    VisibilityTimeout=settings.visibility_timeout,
                    MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"])
            except (BotoCoreError, ClientError) as exc:
                self._unreserve(wanted, 0)
                self.metrics.healthy = False
                log.warning("receive from %s failed: %s", queue_url, exc)
                self._stop.wait(5.0)
                continue
            self.metrics.healthy = True
            messages = response.get("Messages", [])
            if self._stop.is_set():
                entries = [_InFlight(queue_url, m["MessageId"], m["ReceiptHandle"]) for m in messages]
                self._release(entries, "received while stopping")
                self._unreserve(wanted, 0)
                return
            self._unreserve(wanted, len(messages))
            if not messages:
                continue
            self._last_activity = time.monotonic()
            for message in messages:
                self._dispatch(queue_url, message)

    def _unreserve(self, reserved: int, received: int) -> None:
        with self._lock:
            self._reserved -= reserved
            self._received += received
        self._slots.give(reserved - received)

    def _dispatch(self, queue_url: str, message: Mapping[str, Any]) -> None:
        message_id = str(message["MessageId"])
        entry = _InFlight(queue_url, message_id, str(message["ReceiptHandle"]))
        sent = message.get("Attributes", {}).get("SentTimestamp")
        lag = time.time() - int(sent) / 1000 if sent else None
        plan: MessagePlan = parse_message(message.get("Body", ""), message_id,
                                          self._config.normalize.log_group_formats)
        if isinstance(plan, SkipMessage):
            log.info("message %s skipped: %s", message_id, plan.rule)
            self._delete(entry)
            self.metrics.message("skipped", lag)
            self._finish(entry)
            return
        if isinstance(plan, Unreadable):
            assert self._dlq is not None
            self._dlq.write([DeadLetter(message.get("Body"), plan.reason, queue_url, f"message {message_id}")])
            log.warning("message %s dead-lettered: %s", message_id, plan.reason)
            self._delete(entry)
            self.metrics.message("dead_lettered", lag)
            self._finish(entry)
            return
        with self._lock:
            self._in_flight[entry.receipt] = entry
        self.metrics.message("received", lag)
        assert self._executor is not None
        try:
            future = self._executor.submit(process_message, MessageTask(message_id, plan))
        except (RuntimeError, BrokenProcessPool) as exc:
            self._release([entry], f"cannot start: {exc}")
            self._finish(entry)
            return
        entry.future = future
        future.add_done_callback(lambda done: self._completions.put((entry, done)))

    def _finish(self, entry: _InFlight) -> None:
        with self._lock:
            self._in_flight.pop(entry.receipt, None)
            self._settled += 1
        self._last_activity = time.monotonic()
        self._slots.give(1)

    # acknowledging

    def _acknowledge(self) -> None:
        while True:
            item = self._completions.get()
            if item is None:
                return
            entry, future = item
            if future.cancelled():
                self._finish(entry)
                continue
            error = future.exception()
            if error is None:
                result = future.result()
                if self._fatal is None:
                    self._delete(entry)
                    self.metrics.add_result(result)
                    self.metrics.message("deleted")
                    log.debug("message %s settled: %d units, %d records out", entry.message_id, result.units,
                              sum(result.records_out.values()))
            elif isinstance(error, FatalSinkError):
                self._fatal = error
                self.metrics.message("failed")
                self.stop(f"fatal sink error: {error}")
            elif isinstance(error, BrokenProcessPool):
                if self._killing:  # workers stopped on purpose at the end of the drain; released above
                    self._finish(entry)
                    continue
                self._broken = error
                self.metrics.message("failed")
                self.stop("a worker process died (out of memory?); in-flight messages will reappear")
            else:
                # Not deleted and no longer heartbeated: SQS offers it again after the visibility
                # timeout, and its redrive policy moves it aside after maxReceiveCount attempts.
                self.metrics.message("failed")
                log.error("message %s failed, left for a retry: %s: %s", entry.message_id,
                          type(error).__name__, error)
            self._finish(entry)

    def _delete(self, entry: _InFlight) -> None:
        try:
            self._sqs.delete_message(QueueUrl=entry.queue_url, ReceiptHandle=entry.receipt)
        except (BotoCoreError, ClientError) as exc:
            # The records are delivered; a failed delete only means a duplicate delivery later.
            log.warning("could not delete message %s (it will be delivered again): %s", entry.message_id, exc)

    def _release(self, entries: Sequence[_InFlight], why: str) -> None:
        """Make messages visible again at once, for another worker to take."""
        for queue_url in {e.queue_url for e in entries}:
            mine = [e for e in entries if e.queue_url == queue_url]
            for start in range(0, len(mine), SQS_MAX_BATCH):
                chunk = mine[start : start + SQS_MAX_BATCH]
                try:
                    self._sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=[
                        {"Id": str(i), "ReceiptHandle": e.receipt, "VisibilityTimeout": 0}
                        for i, e in enumerate(chunk)])
                except (BotoCoreError, ClientError) as exc:
                    log.warning("could not release %d messages (%s): %s", len(chunk), why, exc)
        for entry in entries:
            log.info("message %s released (%s)", entry.message_id, why)
            self.metrics.message("released")

    # heartbeat

    def _heartbeat(self) -> None:
        timeout = self.settings.visibility_timeout
        interval = max(timeout / 3, 0.5)
        while True:
            time.sleep(interval)
            with self._lock:
                entries = list(self._in_flight.values())
            by_queue: dict[str, list[_InFlight]] = {}
            for entry in entries:
                by_queue.setdefault(entry.queue_url, []).append(entry)
            for queue_url, mine in by_queue.items():
                for start in range(0, len(mine), SQS_MAX_BATCH):
                    chunk = mine[start : start + SQS_MAX_BATCH]
                    try:
                        answer = self._sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=[
                            {"Id": str(i), "ReceiptHandle": e.receipt, "VisibilityTimeout": timeout}
                            for i, e in enumerate(chunk)])
                    except (BotoCoreError, ClientError) as exc:
                        log.warning("heartbeat for %d messages failed: %s", len(chunk), exc)
                        continue
                    for failed in answer.get("Failed", []):
                        log.warning("heartbeat for message %s failed: %s", chunk[int(failed["Id"])].message_id,
                                    failed.get("Message") or failed.get("Code"))


# --- command line --------------------------------------------------------------------------------


def add_forward_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``forward`` flags, with the sink and common flags shared by every command."""
    from connector.cli import _common, _sink_options

    parser.add_argument("--queue-url", action="append", metavar="URL",
                        help="SQS queue to drain (repeatable; or forward.queue_urls)")
    _sink_options(parser, default=None)
    parser.add_argument("--max-in-flight", type=int, metavar="N", help="messages in work at once (default: 4)")
    parser.add_argument("--workers", type=int, metavar="N", help="parsing processes (default: CPU count)")
    parser.add_argument("--visibility-timeout", type=int, metavar="S",
                        help="seconds a message stays hidden; renewed every S/3 while in work (default: 300)")
    parser.add_argument("--metrics-port", type=int, metavar="P", help="serve /healthz and /metrics on this port")
    parser.add_argument("--max-messages", type=int, metavar="N", help="stop after N messages (one-shot drains)")
    parser.add_argument("--idle-exit", type=float, metavar="S", help="exit 0 after S seconds with an empty queue")
    _common(parser)


def run_forward(args: argparse.Namespace, config: AppConfig) -> int:
    """Run the service with the parsed flags and configuration; returns the exit code.

    Only SQS queues are drained here; the CloudWatch Logs form (``--log-group``) can dispatch to
    its own source before this point without changing the queue path.
    """
    if getattr(args, "dry_run", False):
        raise ConfigError("forward does not support --dry-run (use normalize or backfill --dry-run to preview)")
    kind = args.sink or config.section("sink").get("type")
    if not kind:
        raise ConfigError("no sink chosen: pass --sink file|splunk|elasticsearch|opensearch or set sink.type")
    if kind not in SINK_KINDS:
        raise ConfigError(f"{config.source_file}: sink.type {kind!r} is not one of {', '.join(SINK_KINDS)}")
    settings = ForwardSettings.from_sources(config.section("forward"), args, config.source_file)
    return ForwardService(settings, config, str(kind), os.environ).run()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m connector.forward``: the same service without the other commands."""
    from connector.cli import config_from_args
    from connector.logs import setup_logging

    parser = argparse.ArgumentParser(prog="aws-siem-connector forward",
                                     description="Drain SQS queues of AWS log notifications into a sink.")
    add_forward_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        return run_forward(args, config_from_args(args))
    except ConnectorError as exc:
        print(f"aws-siem-connector forward: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # Re-import under the package name so worker processes unpickle the same functions.
    from connector import forward as _forward

    sys.exit(_forward.main())
