"""Sink throughput to a real Elasticsearch on this machine: docs/s and the connector's CPU per doc.

    .venv/bin/python bench/bench_search_sink.py [--docs 200000] [--batch 20000] [--concurrency 4]

Starts the integration-test Elasticsearch (see tests/servers/search_cluster.py), installs the
templates, sends N realistic flow documents through ``ElasticsearchSink`` and checks the count.
Document generation is not timed; encoding, gzip, HTTP and response handling are.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


def main() -> int:
    """Run the benchmark and print one summary line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=20_000, help="records per Sink.send")
    parser.add_argument("--bulk-docs", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--heap", default="1g")
    parser.add_argument(
        "--node-dir-base", default="/tmp", help="where the node keeps data; /dev/shm takes the disk out of the figure"
    )
    args = parser.parse_args()

    batches: list[Batch] = []
    for start in range(0, args.docs, args.batch):
        batch = Batch()
        for n in range(start, min(start + args.batch, args.docs)):
            batch.add(flow_doc(n, origin="bench://flows"), "aws.vpcflow", "bench://flows")
        batches.append(batch)
    avg_bytes = sum(len(json.dumps(d)) for d in batches[0].docs[:1000]) / min(1000, len(batches[0]))

    workdir = Path(tempfile.mkdtemp(prefix="aws-siem-bench-", dir=args.node_dir_base))
    try:
        with SearchCluster.start("elasticsearch", workdir, heap=args.heap) as cluster:
            config = SearchSinkConfig.from_settings(
                {"url": cluster.url, "namespace": "bench", "bulk_docs": args.bulk_docs,
                 "concurrency": args.concurrency},
                {},
                "elasticsearch",
            )
            deploy(config)
            sink = ElasticsearchSink(config)
            delivered = 0
            server0 = _tree_cpu_seconds(cluster.pid)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for batch in batches:
                delivery = sink.send(batch)
                delivered += delivery.delivered
                if delivery.dead_lettered:
                    print(f"dead-lettered: {delivery.dead_lettered[0].reason}", file=sys.stderr)
                    return 1
            wall = time.perf_counter() - wall0
            cpu = time.process_time() - cpu0
            server_cpu = _tree_cpu_seconds(cluster.pid) - server0
            sink.close()
            urllib.request.urlopen(urllib.request.Request(f"{cluster.url}/_refresh", method="POST")).read()
            with urllib.request.urlopen(f"{cluster.url}/logs-aws_connector.vpcflow-bench/_count") as resp:
                count = json.loads(resp.read())["count"]
            print(
                f"server            elasticsearch {cluster.version} (integ-test zip, heap {args.heap},"
                f" data under {args.node_dir_base})"
            )
            print(f"documents         {delivered} delivered, {count} counted, ~{avg_bytes:.0f} bytes JSON each")
            print(f"requests          {sink.stats.requests} bulk, {sink.stats.retried_requests} retried")
            print(f"throughput        {delivered / wall:,.0f} docs/s ({wall:.2f} s wall)")
            print(f"connector CPU     {cpu:.2f} s, {cpu / delivered * 1e6:.1f} us/doc")
            print(f"server CPU        {server_cpu:.2f} s, {server_cpu / delivered * 1e6:.1f} us/doc")
            print(f"machine load      {os.getloadavg()[0]:.1f} (1-minute average, {os.cpu_count()} cores)")
            return 0 if count == args.docs == delivered else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
