"""Sink throughput to a real Elasticsearch on this machine: docs/s and the connector's CPU per doc.

    .venv/bin/python bench/bench_search_sink.py [--docs 200000] [--batch 20000] [--concurrency 4]

Starts the integration-test Elasticsearch (see tests/servers/search_cluster.py), installs the
templates, sends N realistic flow documents through ``ElasticsearchSink`` and checks the count.
Document generation is not timed; encoding, gzip, HTTP and response handling are.

A freshly started JVM runs the first hundred thousand documents at well under half its steady
speed while it compiles the indexing path, and keeps getting faster for a few hundred thousand
more. A production cluster is warm, so the benchmark times two passes and prints both: a cold pass
of ``--warmup-docs`` distinct documents into the ``warmup`` namespace, then the warm pass of
``--docs`` documents into ``bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.gzip_codec import engine
from connector.sinks.base import Batch
from connector.sinks.elasticsearch import ElasticsearchSink
from connector.sinks.search_bulk import SearchSinkConfig
from connector.sinks.search_templates import deploy
from tests.search.ecs_docs import flow_doc
from tests.servers.search_cluster import SearchCluster


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its descendants (the launcher and the server JVM)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            # Any thread may have started a child (the launcher starts the JVM from a worker).
            for task in Path(f"/proc/{current}/task").iterdir():
                pids.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return total


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
    server_cpu: float
    requests: int
    retried: int

    def line(self, label: str) -> str:
        per_doc = 1e6 / self.delivered
        return (
            f"{label:<18}{self.delivered / self.wall:>8,.0f} docs/s  ({self.delivered} docs, {self.wall:.2f} s wall,"
            f" connector {self.cpu * per_doc:.1f} us/doc, server {self.server_cpu * per_doc:.1f} us/doc,"
            f" {self.requests} bulk requests, {self.retried} retried)"
        )


def _timed_pass(config: SearchSinkConfig, batches: list[Batch], server_pid: int) -> _Pass:
    """Send every batch through a fresh sink; fails loudly on any dead letter."""
    sink = ElasticsearchSink(config)
    delivered = 0
    server0 = _tree_cpu_seconds(server_pid)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for batch in batches:
        delivery = sink.send(batch)
        delivered += delivery.delivered
        if delivery.dead_lettered:
            raise SystemExit(f"dead-lettered: {delivery.dead_lettered[0].reason}")
    result = _Pass(
        delivered,
        time.perf_counter() - wall0,
        time.process_time() - cpu0,
        _tree_cpu_seconds(server_pid) - server0,
        sink.stats.requests,
        sink.stats.retried_requests,
    )
    sink.close()
    return result


def _count(url: str, stream: str) -> int:
    urllib.request.urlopen(urllib.request.Request(f"{url}/_refresh", method="POST")).read()
    with urllib.request.urlopen(f"{url}/{stream}/_count") as resp:
        return int(json.loads(resp.read())["count"])


def main() -> int:
    """Run the benchmark and print one summary line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200_000, help="documents in the timed warm pass")
    parser.add_argument("--warmup-docs", type=int, default=300_000, help="documents in the cold pass before it")
    parser.add_argument("--batch", type=int, default=20_000, help="records per Sink.send")
    parser.add_argument("--bulk-docs", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--compression-level", type=int, default=1, help="gzip level of bodies, 0 = off")
    parser.add_argument("--heap", default="1g")
    parser.add_argument(
        "--node-dir-base", default="/tmp", help="where the node keeps data; /dev/shm takes the disk out of the figure"
    )
    args = parser.parse_args()

    cold_batches = _batches(10_000_000, args.warmup_docs, args.batch)
    batches = _batches(0, args.docs, args.batch)
    avg_bytes = sum(len(e) for e in batches[0].encoded[:1000]) / min(1000, len(batches[0]))

    workdir = Path(tempfile.mkdtemp(prefix="aws-siem-bench-", dir=args.node_dir_base))
    try:
        with SearchCluster.start("elasticsearch", workdir, heap=args.heap) as cluster:
            config = SearchSinkConfig.from_settings(
                {"url": cluster.url, "namespace": "bench", "bulk_docs": args.bulk_docs,
                 "concurrency": args.concurrency, "compression_level": args.compression_level},
                {},
                "elasticsearch",
            )
            deploy(config)
            cold = _timed_pass(replace(config, namespace="warmup"), cold_batches, cluster.pid) if cold_batches else None
            warm = _timed_pass(config, batches, cluster.pid)
            count = _count(cluster.url, "logs-aws_connector.vpcflow-bench")
            print(
                f"server            elasticsearch {cluster.version} (integ-test zip, heap {args.heap},"
                f" data under {args.node_dir_base}); gzip level {args.compression_level}"
                f" ({engine(args.compression_level) if args.compression_level else 'off'})"
            )
            print(f"documents         ~{avg_bytes:.0f} bytes JSON each; warm pass {count} counted in the index")
            if cold is not None:
                print(cold.line("cold node"))
            print(warm.line("warm node"))
            print(f"machine load      {os.getloadavg()[0]:.1f} (1-minute average, {os.cpu_count()} cores)")
            return 0 if count == args.docs == warm.delivered else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
