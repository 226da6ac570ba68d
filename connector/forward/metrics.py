"""What the service tells its operators: counters in the Prometheus text format, and the small
HTTP server that answers ``/metrics`` and ``/healthz``."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from connector.forward.worker import MessageResult

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ForwardMetrics:
    """Counters for ``/metrics`` (Prometheus text format), updated by the service threads."""

    def __init__(self, in_flight: Callable[[], int]) -> None:
        self._lock = threading.Lock()
        self._in_flight = in_flight
        self.records: dict[str, Counter[str]] = {"in": Counter(), "out": Counter(), "dead_lettered": Counter()}
        self.skipped: Counter[tuple[str, str]] = Counter()  # by dataset and rule
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
            self.skipped.update(result.skipped)
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
                                    ("dead_lettered", "records written to the dead-letter store")):
                name = f"aws_siem_connector_records_{kind}_total"
                lines += [f"# HELP {name} {help_text.capitalize()}.", f"# TYPE {name} counter"]
                lines += [f'{name}{{dataset="{ds}"}} {n}' for ds, n in sorted(self.records[kind].items())]
            name = "aws_siem_connector_records_skipped_total"
            lines += [f"# HELP {name} Records or objects skipped by a named rule (a filter rule's name, or a "
                      "built-in rule).", f"# TYPE {name} counter"]
            lines += [f'{name}{{dataset="{ds}",rule="{_label(rule)}"}} {n}'
                      for (ds, rule), n in sorted(self.skipped.items())]
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


def _label(value: str) -> str:
    """A Prometheus label value: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def serve_metrics(metrics: ForwardMetrics, host: str, port: int) -> ThreadingHTTPServer:
    """Answer ``/metrics`` and ``/healthz`` on ``host:port`` from a daemon thread until ``shutdown``."""

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
