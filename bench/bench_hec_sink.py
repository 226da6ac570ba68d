"""HEC sink throughput: realistic flow-log ECS documents through gzip into a real HEC receiver.

Run: ``.venv/bin/python bench/bench_hec_sink.py [--events 200000] [--target both|receiver|null]``.
``receiver`` is the OpenTelemetry Collector splunkhec receiver (ack on), which decodes, converts
and writes every event; ``null`` is a local HTTP server that reads and discards each request, so
the figure is the sink's own ceiling when the receiver is the bottleneck.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connector.gzip_codec import engine  # noqa: E402
from connector.sinks.base import Batch  # noqa: E402
from connector.sinks.splunk_hec import HecSink  # noqa: E402
from connector.sinks.splunk_hec_config import HecSinkConfig  # noqa: E402
from tests.servers.hec_receiver import HecReceiver  # noqa: E402
from tests.splunk.samples import FLOW_ORIGIN, vpcflow  # noqa: E402

TOKEN = "00000000-0000-4000-8000-000000000001"

# A server that discards bodies: a separate process, so it does not share the sink's GIL.
NULL_SERVER = r"""
import http.server, json, socket, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    n = 0
    lock = threading.Lock()
    def log_message(self, *a): pass
    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without this, delayed ACKs add 40 ms each.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def _reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        self._reply({"text": "HEC is healthy", "code": 17})
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.endswith("/ack"):
            self._reply({"acks": {str(i): True for i in json.loads(body)["acks"]}})
            return
        with H.lock:
            H.n += 1
            ack = H.n
        self._reply({"text": "Success", "code": 0, "ackId": ack})
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"""


@dataclass
class Result:
    """One run's figures."""

    target: str
    events: int
    seconds: float
    cpu_seconds: float
    raw_mb: float
    sent_mb: float
    requests: int
    server_cpu: float | None

    def show(self) -> str:
        server = f", server CPU {self.server_cpu:.1f}s" if self.server_cpu is not None else ""
        return (
            f"{self.target:9s} {self.events:>8,d} events in {self.seconds:6.2f}s = "
            f"{self.events / self.seconds:>9,.0f} events/s | "
            f"{self.raw_mb / self.seconds:6.1f} MB/s uncompressed, {self.sent_mb / self.seconds:5.1f} MB/s gzip "
            f"(ratio {self.raw_mb / max(self.sent_mb, 1e-9):.1f}) | "
            f"{self.requests} requests | connector CPU {self.cpu_seconds:.1f}s{server}"
        )


class NullServer(AbstractContextManager["NullServer"]):
    """Accept-and-discard HEC stand-in in a child process, stopped by its own PID."""

    def __enter__(self) -> NullServer:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", NULL_SERVER], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"
        self.pid = self.proc.pid
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _proc_cpu(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_batches(n: int, per_batch: int) -> list[Batch]:
    """Flow-log documents as the pipeline hands them over: batches of ``per_batch`` records."""
    batches: list[Batch] = []
    for start in range(0, n, per_batch):
        batch = Batch()
        for i in range(start, min(n, start + per_batch)):
            doc, raw = vpcflow(i)
            batch.add(doc, "aws.vpcflow", FLOW_ORIGIN, raw)
        batches.append(batch)
    return batches


def run(target: str, url: str, token: str, batches: list[Batch], server_pid: int | None,
        args: argparse.Namespace) -> Result:
    settings: dict[str, Any] = {
        "hec_url": url,
        "token": token,
        "ack": not args.no_ack,
        "ack_poll_interval": 0.05,
        "concurrency": args.concurrency,
        "indexes": {"aws.vpcflow": "aws_vpcflow"},
        "compression_level": args.level,
    }
    sink = HecSink(HecSinkConfig.from_settings(settings, env={}))
    server_cpu0 = _proc_cpu(server_pid)
    try:
        sink.check_health()
        cpu0, t0 = time.process_time(), time.perf_counter()
        delivered = sum(sink.send(batch).delivered for batch in batches)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    finally:
        sink.close()
    server_cpu1 = _proc_cpu(server_pid)
    total = sum(len(b) for b in batches)
    if delivered != total:
        raise SystemExit(f"{target}: delivered {delivered} of {total}")
    return Result(
        target=target,
        events=delivered,
        seconds=seconds,
        cpu_seconds=cpu,
        raw_mb=sink.stats.raw_bytes / 1e6,
        sent_mb=sink.stats.sent_bytes / 1e6,
        requests=sink.stats.requests,
        server_cpu=None if server_cpu0 is None or server_cpu1 is None else server_cpu1 - server_cpu0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=10_000, help="records per Sink.send call")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--level", type=int, default=1, help="gzip level")
    parser.add_argument("--no-ack", action="store_true")
    parser.add_argument("--target", choices=("both", "receiver", "null"), default="both")
    args = parser.parse_args()

    t0 = time.perf_counter()
    batches = make_batches(args.events, args.batch)
    print(f"made {args.events:,d} flow-log documents in {time.perf_counter() - t0:.1f}s; "
          f"ack={'off' if args.no_ack else 'on'}, gzip level {args.level} ({engine(args.level)}), "
          f"concurrency {args.concurrency}, {os.cpu_count()} CPUs shared by connector and server")
    results: list[Result] = []
    if args.target in ("both", "receiver"):
        with HecReceiver(token=TOKEN, ack=True) as receiver:
            result = run("receiver", receiver.url, TOKEN, batches, receiver.pid, args)
            written = receiver.output_path.read_bytes().count(b'"timeUnixNano"')
            if written != args.events:
                raise SystemExit(f"receiver wrote {written} events, expected {args.events}")
            results.append(result)
            print(result.show(), f"| receiver wrote {written:,d}", flush=True)
    if args.target in ("both", "null"):
        with NullServer() as null:
            result = run("null", null.url, TOKEN, batches, null.pid, args)
            results.append(result)
            print(result.show(), flush=True)


if __name__ == "__main__":
    main()
