"""End-to-end S3 backfill throughput: a moto bucket of gzip objects -> backfill -> file sink or
a real Elasticsearch.

    .venv/bin/python bench/bench_backfill.py [--size-mb 200] [--workers 1,2] [--sink file|elasticsearch]

Builds (once, cached) realistic gzip objects in the standard key layout — flow logs mostly (90 %),
CloudTrail for the rest — uploads them to a moto server on 127.0.0.1, then runs the real command
(`backfill --bucket ... --sink file`, GeoIP on) with each worker count in a fresh process and a
fresh checkpoint. Reports MB/s of gzip input and of uncompressed input, and records/s, measured
from the command's start (listing included) to its exit.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("BENCH_DATA", str(Path.home() / ".cache" / "aws-siem-connector" / "bench"))) / "backfill"
BUCKET = "bench-backfill-logs"
ACCOUNT = "123456789012"
HEADER = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
          "action log-status")
FLOW_OBJECT_LINES = 50_000  # ~5.5 MB uncompressed: a busy ENI's 10-minute delivery
TRAIL_OBJECT_RECORDS = 1_500  # ~1.5 MB uncompressed
FLOW_LINE_BYTES = 110
TRAIL_RECORD_BYTES = 1_000


def _flow_object(path: Path, seed: int, day: int) -> None:
    rnd = random.Random(seed)
    public = [f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
              for _ in range(5_000)]
    private = [f"10.{rnd.randint(0, 3)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}" for _ in range(500)]
    enis = [f"eni-{rnd.getrandbits(64):017x}" for _ in range(20)]
    start = 1_767_225_600 + day * 86_400 + seed % 86_000
    lines = [HEADER]
    for i in range(FLOW_OBJECT_LINES):
        roll = rnd.random()
        if roll < 0.45:
            src, dst, dport = rnd.choice(public), rnd.choice(private), rnd.choice((443, 80, 22, 3389))
        elif roll < 0.75:
            src, dst, dport = rnd.choice(private), rnd.choice(public), rnd.choice((443, 53, 123))
        else:
            src, dst, dport = rnd.choice(private), rnd.choice(private), rnd.choice((3306, 5432, 443))
        t = start + i // 100
        action = "REJECT" if rnd.random() < 0.15 else "ACCEPT"
        lines.append(f"2 {ACCOUNT} {rnd.choice(enis)} {src} {dst} {rnd.randint(1024, 65535)} {dport} "
                     f"{17 if dport in (53, 123) else 6} {rnd.randint(1, 400)} {rnd.randint(40, 900_000)} {t} "
                     f"{t + 60} {action} OK")
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=6))


def _trail_object(path: Path, seed: int, day: int) -> None:
    rnd = random.Random(seed)
    names = ["DescribeInstances", "GetObject", "AssumeRole", "ConsoleLogin", "PutObject", "GetCallerIdentity"]
    records = []
    for i in range(TRAIL_OBJECT_RECORDS):
        user = f"user{rnd.randint(0, 40)}"
        records.append({
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "principalId": f"AIDA{i % 977:012d}",
                             "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}", "accountId": ACCOUNT, "userName": user},
            "eventTime": f"2026-01-{day + 1:02d}T{i % 24:02d}:{i % 60:02d}:{i % 60:02d}Z",
            "eventSource": "ec2.amazonaws.com", "eventName": rnd.choice(names), "awsRegion": "us-east-1",
            "sourceIPAddress": f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.7",
            "userAgent": "aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6",
            "requestParameters": {"instancesSet": {"items": [{"instanceId": f"i-{i:017x}"}]}, "maxResults": 50},
            "responseElements": None, "requestID": f"{rnd.getrandbits(128):032x}",
            "eventID": f"{rnd.getrandbits(128):032x}", "readOnly": True, "eventType": "AwsApiCall",
            "managementEvent": True, "recipientAccountId": ACCOUNT, "eventCategory": "Management"})
    path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode(), compresslevel=6))


def build_objects(size_mb: int) -> list[tuple[str, Path]]:
    """(key, local gzip file) of the benchmark bucket, generated once per size."""
    flow_count = max(1, int(size_mb * 0.9 * 1e6 / (FLOW_OBJECT_LINES * FLOW_LINE_BYTES)))
    trail_count = max(1, int(size_mb * 0.1 * 1e6 / (TRAIL_OBJECT_RECORDS * TRAIL_RECORD_BYTES)))
    objects = []
    for n in range(flow_count):
        day = n % 3
        key = (f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/2026/01/{day + 1:02d}/"
               f"{ACCOUNT}_vpcflowlogs_us-east-1_fl-0bench_202601{day + 1:02d}T{n % 24:02d}00Z_{n:08x}.log.gz")
        objects.append((key, DATA / "flow" / f"{n}.log.gz", _flow_object, n, day))
    for n in range(trail_count):
        day = n % 3
        key = (f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/01/{day + 1:02d}/"
               f"{ACCOUNT}_CloudTrail_us-east-1_202601{day + 1:02d}T{n % 24:02d}00Z_{n:08x}.json.gz")
        objects.append((key, DATA / "trail" / f"{n}.json.gz", _trail_object, 10_000 + n, day))
    for _key, path, make, seed, day in objects:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            make(path, seed, day)
    return [(key, path) for key, path, *_ in objects]


def run_backfill(
    env: dict[str, str], workers: int, work: Path, es_url: str | None = None
) -> tuple[float, dict[str, str]]:
    """Run the command once (file sink, or Elasticsearch at ``es_url``); (wall seconds, summary values)."""
    out, checkpoint = work / f"out-{workers}", work / f"cp-{workers}.sqlite"
    sink = ["--sink", "elasticsearch", "--es-url", es_url] if es_url else ["--sink", "file", "--out", str(out)]
    command = [sys.executable, "-m", "connector", "backfill", "--bucket", BUCKET,
               "--start", "2026-01-01", "--end", "2026-01-03", *sink,
               "--checkpoint", str(checkpoint), "--workers", str(workers), "--no-progress"]
    # A namespace of its own per run: documents already indexed would make the next run a cheap
    # stream of 409 conflicts instead of a load.
    env = {**env, "AWS_SIEM_CONNECTOR_ELASTICSEARCH__NAMESPACE": f"bench{workers}"}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"backfill failed ({done.returncode}):\n{done.stderr[-3000:]}")
    text = done.stderr[done.stderr.rindex("backfill summary"):]
    values = dict(line.split(": ", 1) for line in text.splitlines()[1:] if ": " in line)
    shutil.rmtree(out, ignore_errors=True)
    return seconds, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=200, help="uncompressed size of the bucket (default: 200)")
    parser.add_argument("--workers", default="1,2", help="worker counts to try (default: 1,2)")
    parser.add_argument("--sink", choices=("file", "elasticsearch"), default="file",
                        help="file (default) or a real Elasticsearch started here (integration-test build)")
    args = parser.parse_args()
    from tests.servers.moto_server import moto_server

    objects = build_objects(args.size_mb)
    gzip_bytes = sum(path.stat().st_size for _key, path in objects)
    raw_bytes = sum(len(gzip.decompress(path.read_bytes())) for _key, path in objects)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-backfill-"))
        moto = stack.enter_context(moto_server(Path(tmp)))
        es_url = None
        if args.sink == "elasticsearch":
            from connector.sinks.search_config import SearchSinkConfig
            from connector.sinks.search_templates import deploy
            from tests.servers.search_cluster import SearchCluster

            # The node runs as nobody when we are root: its directory must not sit in a private one.
            es_dir = Path(tempfile.mkdtemp(prefix="bench-backfill-es-", dir="/tmp"))
            stack.callback(shutil.rmtree, es_dir, True)
            cluster = stack.enter_context(SearchCluster.start("elasticsearch", es_dir))
            es_url = cluster.url
            deploy(SearchSinkConfig.from_settings({"url": es_url}, {}, "elasticsearch"))
        s3 = moto.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        for key, path in objects:
            s3.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(moto.env, PYTHONPATH=str(ROOT))
        print(f"{len(objects)} objects, {gzip_bytes / 1e6:.1f} MB gzip, {raw_bytes / 1e6:.1f} MB uncompressed; "
              f"{os.cpu_count()} cores (moto{' and Elasticsearch' if es_url else ''} share them); sink {args.sink}")
        print(f"{'workers':>7} {'records':>10} {'seconds':>8} {'MB/s gzip':>10} {'MB/s raw':>9} {'records/s':>10}")
        best: tuple[float, int] = (0.0, 0)
        for workers in (int(w) for w in args.workers.split(",")):
            seconds, values = run_backfill(env, workers, Path(tmp), es_url)
            records = sum(int(v) for k, v in values.items() if k.endswith("records written"))
            rate = records / seconds
            best = max(best, (rate, workers))
            print(f"{workers:>7} {records:>10,} {seconds:>8.2f} {gzip_bytes / 1e6 / seconds:>10.2f} "
                  f"{raw_bytes / 1e6 / seconds:>9.1f} {rate:>10,.0f}")
        print(f"best: {best[1]} worker(s)")


if __name__ == "__main__":
    main()
