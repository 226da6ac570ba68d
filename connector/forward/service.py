"""The service loop: receive messages, hand each to a worker process, delete it once settled, and
on SIGTERM drain what is in work before handing the rest back.

Process model: the parent receives, heartbeats and deletes messages; each worker process owns a
``RecordProcessor``, an S3 client and its own sink, and runs one message at a time through a
``Pipeline`` whose ``on_settled`` hook tells when every unit of the message is delivered or
dead-lettered. A message's records never cross a process boundary, so "settled" is decided in
the one process that delivered them, and a worker that dies takes only unacknowledged work with it.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from http.server import ThreadingHTTPServer
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from connector.config import AppConfig
from connector.dlq import DeadLetterStore
from connector.errors import FatalSinkError
from connector.forward.metrics import ForwardMetrics, serve_metrics
from connector.forward.settings import ForwardSettings
from connector.forward.visibility import SQS_MAX_BATCH, InFlight, keep_hidden, release
from connector.forward.worker import MessageResult, MessageTask, WorkerSetup, init_worker, process_message
from connector.sinks.base import DeadLetter
from connector.sinks.factory import build_sink
from connector.sources.s3 import aws_client, aws_session
from connector.sources.sqs import MessagePlan, SkipMessage, Unreadable, parse_message

# The whole service logs under one name, whichever of its modules speaks.
log = logging.getLogger("connector.forward")

EXIT_OK, EXIT_FAILED, EXIT_FATAL_SINK = 0, 1, 2


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
        self._in_flight: dict[str, InFlight] = {}
        self._slots = _Slots(settings.max_in_flight)
        self._stop = threading.Event()
        self._force = threading.Event()
        self._completions: queue.Queue[tuple[InFlight, Future[MessageResult]] | None] = queue.Queue()
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
        # Workers unpickle ``init_worker`` and ``process_message`` by module path; preloading their
        # module in the forkserver imports it once for all workers.
        context.set_forkserver_preload([process_message.__module__])
        self._executor = ProcessPoolExecutor(
            max_workers=self.settings.workers, mp_context=context, initializer=init_worker,
            initargs=(WorkerSetup(self._config, self._sink_kind, dict(self._env)),))
        if self.settings.metrics_port is not None:
            self.metrics_server = serve_metrics(self.metrics, self.settings.metrics_host, self.settings.metrics_port)
            log.info("metrics on http://%s:%d/metrics", self.settings.metrics_host,
                     self.metrics_server.server_address[1])
        heartbeat_args = (self._sqs, self._in_flight_now, self.settings.visibility_timeout)
        threads = [threading.Thread(target=self._acknowledge, name="ack", daemon=True),
                   threading.Thread(target=keep_hidden, args=heartbeat_args, name="heartbeat", daemon=True)]
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
        pending = self._in_flight_now()
        for entry in pending:
            if entry.future is not None and entry.future.cancel():
                self._release([entry], "not started")
        deadline = time.monotonic() + self.settings.drain_seconds
        while self._in_flight and self._fatal is None and self._broken is None and not self._force.is_set() \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        left = self._in_flight_now()
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
                entries = [InFlight(queue_url, m["MessageId"], m["ReceiptHandle"]) for m in messages]
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
        entry = InFlight(queue_url, message_id, str(message["ReceiptHandle"]))
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

    def _finish(self, entry: InFlight) -> None:
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

    def _delete(self, entry: InFlight) -> None:
        try:
            self._sqs.delete_message(QueueUrl=entry.queue_url, ReceiptHandle=entry.receipt)
        except (BotoCoreError, ClientError) as exc:
            # The records are delivered; a failed delete only means a duplicate delivery later.
            log.warning("could not delete message %s (it will be delivered again): %s", entry.message_id, exc)

    def _release(self, entries: Sequence[InFlight], why: str) -> None:
        """Make messages visible again at once, for another worker to take."""
        release(self._sqs, entries, why)
        for _ in entries:
            self.metrics.message("released")

    def _in_flight_now(self) -> list[InFlight]:
        with self._lock:
            return list(self._in_flight.values())
