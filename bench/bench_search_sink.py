"""Sink throughput to a real Elasticsearch (or OpenSearch) on this machine: docs/s and the
connector's CPU per doc.

    .venv/bin/python bench/bench_search_sink.py [--server opensearch] [--docs 200000] [--passes 3]

Starts the integration-test server (see tests/servers/search_cluster.py), installs the
templates, sends realistic flow documents through the sink and checks the counts.
Document generation is not timed; encoding, gzip, HTTP and response handling are.

A freshly started JVM indexes at about half its steady speed while it compiles the indexing path:
in the first 300,000 documents a third of the server's CPU goes to the JIT compiler threads, and
the code it runs meanwhile is not yet optimized. A production cluster is warm, so the benchmark
first sends warm-up passes of ``--warmup-docs`` documents, each into a fresh data stream, until
compiling takes less than ``--settled-jit`` of the server's CPU (as JMH warms up before it
measures), then times ``--passes`` passes of ``--docs`` documents, each into a fresh data stream
too. Every line splits the server's CPU into the node's own threads, the JIT and the collector.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.gzip_codec import engine
from connector.sinks.base import Batch
from connector.sinks.elasticsearch import ElasticsearchSink
from connector.sinks.opensearch import OpenSearchSink
from connector.sinks.search_config import SearchSinkConfig
from connector.sinks.search_templates import deploy
from tests.search.ecs_docs import flow_doc
from tests.servers.search_cluster import SearchCluster


def _thread_kind(name: str) -> str:
    """HotSpot names its compiler and collector threads; every other thread does the node's work."""
    if "Compiler" in name or name.startswith(("C1 ", "C2 ")):
        return "jit"
    if name.startswith(("GC ", "G1 ")) or " GC" in name:
        return "gc"
    return "node"


def _server_cpu(pid: int) -> Counter[str]:
    """CPU seconds of a process and its descendants (the launcher and the server JVM) by thread kind."""
    seconds: Counter[str] = Counter()
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                stat = (task / "stat").read_text()
                name = stat[stat.index("(") + 1 : stat.rindex(")")]
                fields = stat.rsplit(")", 1)[1].split()
                seconds[_thread_kind(name)] += (int(fields[11]) + int(fields[12])) / tick
                # Any thread may have started a child (the launcher starts the JVM from a worker).
                pids.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return seconds


def _batches(first: int, count: int, size: int) -> list[Batch]:
    """``count`` distinct flow documents numbered from ``first``, in batches of ``size``."""
    batches: list[Batch] = []
    for start in range(first, first + count, size):
        batch = Batch()
        for n in range(start, min(start + size, first + count)):
            batch.add(flow_doc(n, origin="bench://flows"), "aws.vpcflow", "bench://flows")
        batches.append(batch)
    return batches


@dataclass
class _Pass:
    """What one timed pass of sends cost."""

    delivered: int
    wall: float
    cpu: float
    server_cpu: Counter[str]
    requests: int
    retried: int

    @property
    def docs_per_s(self) -> float:
        return self.delivered / self.wall

    @property
    def jit_share(self) -> float:
        """Share of the server's CPU spent compiling: high while the JVM is still warming up."""
        return self.server_cpu["jit"] / max(sum(self.server_cpu.values()), 1e-9)

    def line(self, label: str) -> str:
        per_doc = 1e6 / self.delivered
        server = self.server_cpu
        return (
            f"{label:<18}{self.docs_per_s:>8,.0f} docs/s  ({self.delivered} docs, {self.wall:.2f} s wall,"
            f" connector {self.cpu * per_doc:.1f} us/doc, server {sum(server.values()) * per_doc:.1f} us/doc"
            f" = node {server['node'] * per_doc:.1f} + JIT {server['jit'] * per_doc:.1f}"
            f" + GC {server['gc'] * per_doc:.1f}, {self.requests} bulk requests, {self.retried} retried)"
        )


def _timed_pass(config: SearchSinkConfig, batches: list[Batch], server_pid: int) -> _Pass:
    """Send every batch through a fresh sink; fails loudly on any dead letter."""
    sink = ElasticsearchSink(config) if config.kind == "elasticsearch" else OpenSearchSink(config)
    delivered = 0
    server0 = _server_cpu(server_pid)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for batch in batches:
        delivery = sink.send(batch)
        delivered += delivery.delivered
        if delivery.dead_lettered:
            raise SystemExit(f"dead-lettered: {delivery.dead_lettered[0].reason}")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    server = _server_cpu(server_pid)
    server.subtract(server0)
    result = _Pass(delivered, wall, cpu, server, sink.stats.requests, sink.stats.retried_requests)
    sink.close()
    return result


def _count(url: str, stream: str) -> int:
    urllib.request.urlopen(urllib.request.Request(f"{url}/_refresh", method="POST")).read()
    with urllib.request.urlopen(f"{url}/{stream}/_count") as resp:
        return int(json.loads(resp.read())["count"])


def _warm_up(config: SearchSinkConfig, batches: list[Batch], pid: int, args: argparse.Namespace) -> None:
    """Send cold passes into fresh namespaces until the JIT's share of the server's CPU settles."""
    for n in range(1, args.max_warmup_passes + 1):
        cold = _timed_pass(replace(config, namespace=f"warmup{n}"), batches, pid)
        print(cold.line(f"warm-up {n}") + f"  JIT {cold.jit_share:.0%}", flush=True)
        if cold.jit_share < args.settled_jit:
            return
    print(f"note              the JIT still took {cold.jit_share:.0%} after {n} warm-up passes; the node is not warm")


def main() -> int:
    """Run the benchmark and print one summary line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("elasticsearch", "opensearch"), default="elasticsearch")
    parser.add_argument("--docs", type=int, default=200_000, help="documents in each timed warm pass")
    parser.add_argument("--passes", type=int, default=3, help="timed warm passes, each into a fresh data stream")
    parser.add_argument("--warmup-docs", type=int, default=300_000, help="documents in each warm-up pass")
    parser.add_argument("--max-warmup-passes", type=int, default=6)
    parser.add_argument(
        "--settled-jit",
        type=float,
        default=0.08,
        help="the node counts as warm once JIT compilation takes less than this share of its CPU",
    )
    parser.add_argument("--batch", type=int, default=20_000, help="records per Sink.send")
    parser.add_argument("--bulk-docs", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--compression-level", type=int, default=1, help="gzip level of bodies, 0 = off")
    parser.add_argument("--heap", default="1g")
    parser.add_argument(
        "--node-dir-base", default="/tmp", help="where the node keeps data; /dev/shm takes the disk out of the figure"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="aws-siem-bench-", dir=args.node_dir_base))
    try:
        with SearchCluster.start(args.server, workdir, heap=args.heap) as cluster:
            config = SearchSinkConfig.from_settings(
                {
                    "url": cluster.url,
                    "namespace": "bench",
                    "bulk_docs": args.bulk_docs,
                    "concurrency": args.concurrency,
                    "compression_level": args.compression_level,
                },
                {},
                args.server,
            )
            deploy(config)
            # Made after the server started: starting it forks this process (as root, to run the
            # node as nobody), and every page the fork shared faults once when next written.
            cold_batches = _batches(10_000_000, args.warmup_docs, args.batch)
            batches = _batches(0, args.docs, args.batch)
            avg_bytes = sum(len(e) for e in batches[0].encoded[:1000]) / min(1000, len(batches[0]))
            print(
                f"server            {args.server} {cluster.version} (integ-test zip, heap {args.heap},"
                f" data under {args.node_dir_base}); gzip level {args.compression_level}"
                f" ({engine(args.compression_level) if args.compression_level else 'off'})"
            )
            print(f"documents         ~{avg_bytes:.0f} bytes JSON each")
            if cold_batches:
                _warm_up(config, cold_batches, cluster.pid, args)
            passes: list[_Pass] = []
            for n in range(1, args.passes + 1):
                namespace = f"bench{n}"
                passes.append(_timed_pass(replace(config, namespace=namespace), batches, cluster.pid))
                count = _count(cluster.url, f"logs-aws_connector.vpcflow-{namespace}")
                print(passes[-1].line(f"warm pass {n}") + f"  {count} counted", flush=True)
                if not count == args.docs == passes[-1].delivered:
                    return 1
            rates = sorted(p.docs_per_s for p in passes)
            server = [sum(p.server_cpu.values()) * 1e6 / p.delivered for p in passes]
            connector = [p.cpu * 1e6 / p.delivered for p in passes]
            print(
                f"warm node         {rates[-1]:,.0f} docs/s fastest, {statistics.median(rates):,.0f} median;"
                f" server {min(server):.1f}-{max(server):.1f} us/doc,"
                f" connector {min(connector):.1f}-{max(connector):.1f} us/doc"
            )
            print(f"machine load      {os.getloadavg()[0]:.1f} (1-minute average, {os.cpu_count()} cores)")
            return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
