"""Normalize throughput: flow logs and CloudTrail, with and without GeoIP, against the bare floor.

    .venv/bin/python bench/bench_normalize.py [--flows 1000000] [--trails 200000] [--repeat 3]
        [--only flows|cloudtrail] [--scan LINES] [--config FILE]

Each case runs in a fresh single-threaded process (one core) over a generated gzip file through
the real pipeline (reader -> normalizer -> NDJSON bytes), and reports records/s, MB/s of
uncompressed input and the process's peak RSS. The floor is gunzip + split + orjson.dumps of
the raw fields with no mapping. Each case runs ``--repeat`` times in interleaved rounds; the
fastest run is the figure (as ``timeit`` reports the minimum: slower runs measure the other
tenants of a shared machine), and the median is printed beside it. With ``--config`` the GeoIP
cases run once more with that configuration's filters, pruning and threat intel; records/s
counts the records read (written or skipped), so the cases compare.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("BENCH_DATA", str(Path.home() / ".cache" / "aws-siem-connector" / "bench")))
SETUP_SECONDS = 0.0  # of the case running in this process: the processor's construction
HEADER = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
          "action log-status")


def flow_file(lines: int) -> Path:
    """A flow-log object as AWS writes it to S3: gzip, header first, 20k public and 2k private addresses."""
    path = DATA / f"AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/27/bench_{lines}.log.gz"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(42)
    public = [f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
              for _ in range(20_000)]
    private = [f"10.{rnd.randint(0, 3)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}" for _ in range(2_000)]
    enis = [f"eni-{rnd.getrandbits(64):017x}" for _ in range(50)]
    start = 1_764_230_400
    with gzip.open(path, "wt", compresslevel=6) as out:
        out.write(HEADER + "\n")
        for i in range(lines):
            roll = rnd.random()
            if roll < 0.45:
                src, dst, dport = rnd.choice(public), rnd.choice(private), rnd.choice((443, 80, 22, 3389, 8080))
            elif roll < 0.75:
                src, dst, dport = rnd.choice(private), rnd.choice(public), rnd.choice((443, 53, 123))
            else:
                src, dst, dport = rnd.choice(private), rnd.choice(private), rnd.choice((3306, 5432, 6379, 443))
            proto = 17 if dport in (53, 123) else 6
            t = start + i // 200
            action = "REJECT" if rnd.random() < 0.15 else "ACCEPT"
            out.write(f"2 123456789012 {rnd.choice(enis)} {src} {dst} {rnd.randint(1024, 65535)} {dport} {proto} "
                      f"{rnd.randint(1, 400)} {rnd.randint(40, 900_000)} {t} {t + 60} {action} OK\n")
    return path


def scan_file(lines: int) -> Path:
    """Flow logs of an internet-wide scan: every record from a new public address (the address
    cache's worst case; peak memory must stay flat)."""
    path = DATA / f"AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/27/scan_{lines}.log.gz"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(5)
    start = 1_764_230_400
    with gzip.open(path, "wt", compresslevel=6) as out:
        out.write(HEADER + "\n")
        for i in range(lines):
            src = f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
            t = start + i // 500
            out.write(f"2 123456789012 eni-0a1b2c3d4e5f60718 {src} 10.0.1.5 {rnd.randint(1024, 65535)} "
                      f"{rnd.choice((22, 3389, 443, 445))} 6 1 40 {t} {t + 60} REJECT OK\n")
    return path


def trail_file(records: int) -> Path:
    """A CloudTrail object: gzip ``{"Records": [...]}`` of realistic API calls."""
    path = DATA / f"AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/27/bench_{records}.json.gz"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(7)
    users = [f"user{i}" for i in range(40)]
    ips = [f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
           for _ in range(500)] + ["ec2.amazonaws.com", "lambda.amazonaws.com"]
    agents = ["aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6",
              "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.11.9",
              "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 "
              "Safari/537.36",
              "console.amazonaws.com", "AWS Internal"]
    names = ["DescribeInstances", "GetObject", "ListBuckets", "AssumeRole", "ConsoleLogin", "PutObject",
             "AuthorizeSecurityGroupIngress", "CreateUser", "GetCallerIdentity", "DescribeSecurityGroups"]
    recs = []
    for i in range(records):
        name = rnd.choice(names)
        user = rnd.choice(users)
        rec = {
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "principalId": f"AIDA{i % 977:012d}",
                             "arn": f"arn:aws:iam::123456789012:user/{user}", "accountId": "123456789012",
                             "accessKeyId": f"AKIA{i % 331:012d}", "userName": user},
            "eventTime": f"2026-11-27T{(i // 10000) % 24:02d}:{(i // 100) % 60:02d}:{i % 60:02d}Z",
            "eventSource": "ec2.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
            "sourceIPAddress": rnd.choice(ips), "userAgent": rnd.choice(agents),
            "requestParameters": {"instancesSet": {"items": [{"instanceId": f"i-{i:017x}"}]},
                                  "filterSet": {}, "maxResults": 50},
            "responseElements": None,
            "requestID": f"{rnd.getrandbits(128):032x}", "eventID": f"{rnd.getrandbits(128):032x}",
            "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True,
            "recipientAccountId": "123456789012", "eventCategory": "Management",
            "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                           "clientProvidedHostHeader": "ec2.us-east-1.amazonaws.com"},
        }
        if rnd.random() < 0.05:
            rec["errorCode"] = "Client.UnauthorizedOperation"
            rec["errorMessage"] = "You are not authorized to perform this operation."
        recs.append(rec)
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(json.dumps({"Records": recs}, separators=(",", ":")).encode())
    return path


def uncompressed_size(path: Path) -> int:
    with gzip.open(path, "rb") as f:
        return sum(len(chunk) for chunk in iter(lambda: f.read(1 << 20), b""))


# --- measured cases, each run in its own process ------------------------------------------------

def case_floor(path: str) -> int:
    """gunzip + split + orjson.dumps(dict(zip(header, fields))): the work any reader must do."""
    import orjson

    from connector.formats.base import iter_line_blocks, payload_chunks

    n = 0
    header: list[str] | None = None
    with open(path, "rb") as raw:
        for block in iter_line_blocks(payload_chunks(raw), 65536):
            out = []
            for line in block:
                if not line:
                    continue
                if header is None:
                    header = line.split()
                    continue
                out.append(orjson.dumps(dict(zip(header, line.split(), strict=False))))
            n += len(out)
    return n


def case_pipeline(path: str, geoip: bool, config_file: str | None = None) -> int:
    """The real path: RecordProcessor (reader, normalizer, enrichment) -> batches -> NDJSON bytes."""
    from connector.config import load_config
    from connector.dlq import DeadLetterStore
    from connector.pipeline import Pipeline, RecordProcessor
    from connector.sinks.base import Batch, Delivery
    from connector.sources.local import local_units

    class SerializingSink:
        def __init__(self) -> None:
            self.bytes = 0

        def send(self, batch: Batch) -> Delivery:
            # What the file and stdout sinks do: the documents arrive serialized.
            self.bytes += len(b"\n".join(batch.encoded))
            return Delivery(len(batch))

        def close(self) -> None:
            pass

    started = time.perf_counter()
    config = load_config(config_file, {}, {"geoip": {"city_db": "embedded" if geoip else "none"}})
    processor = RecordProcessor(config)
    global SETUP_SECONDS
    SETUP_SECONDS = time.perf_counter() - started  # reading threat-intel feeds is start-up, not throughput
    summary = Pipeline(processor, SerializingSink(), DeadLetterStore(os.devnull)).run(local_units([path]))
    if summary.dead_lettered:
        raise SystemExit(f"{summary.dead_lettered} dead letters in the benchmark input")
    return summary.written + summary.skipped


def run_case(name: str, path: Path, config_file: str | None = None) -> dict[str, float]:
    # Peak RSS from /proc/self/status (VmHWM): ru_maxrss would carry over the parent's peak
    # across exec, and the parent holds the generated data.
    code = (f"import sys,time; sys.path.insert(0,{str(ROOT)!r}); import bench.bench_normalize as b; "
            f"t=time.perf_counter(); n={name}; d=time.perf_counter()-t-b.SETUP_SECONDS; "
            f"hwm=[l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]; "
            f"print(n, d, hwm)")
    call = {"floor": f"b.case_floor({str(path)!r})",
            "geoip": f"b.case_pipeline({str(path)!r}, True)",
            "no_geoip": f"b.case_pipeline({str(path)!r}, False)",
            "configured": f"b.case_pipeline({str(path)!r}, True, {config_file!r})"}[name]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    done = subprocess.run([sys.executable, "-c", code.replace(f"n={name}", f"n={call}")], capture_output=True,
                          text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    n, seconds, rss_kb = done.stdout.split()
    return {"records": int(n), "seconds": float(seconds), "rss_mb": int(rss_kb) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=1_000_000)
    parser.add_argument("--trails", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per case, interleaved; the fastest is reported with the median beside it")
    parser.add_argument("--only", choices=("flows", "cloudtrail"),
                        help="run one dataset's cases (the floor comes with flows)")
    parser.add_argument("--scan", type=int, default=0, metavar="LINES",
                        help="add a case of flow logs where every source address is new (peak memory)")
    parser.add_argument("--config", metavar="FILE",
                        help="add GeoIP cases with this configuration (filters, prune_fields, threat_intel)")
    args = parser.parse_args()
    flows, trails = flow_file(args.flows), trail_file(args.trails)
    cases = (
        ("flow floor (gunzip+split+dumps)", flows, "floor"),
        ("flow logs, GeoIP", flows, "geoip"),
        ("flow logs, no GeoIP", flows, "no_geoip"),
        ("CloudTrail, GeoIP", trails, "geoip"),
        ("CloudTrail, no GeoIP", trails, "no_geoip"),
    )
    if args.config:
        cases += (("flow logs, GeoIP, --config", flows, "configured"),
                  ("CloudTrail, GeoIP, --config", trails, "configured"))
    if args.scan:
        cases += (("flow scan, GeoIP, all sources new", scan_file(args.scan), "geoip"),)
    if args.only:
        cases = tuple(c for c in cases if (c[1] == trails) == (args.only == "cloudtrail"))
    # Interleaved rounds: a slow phase of a shared machine then touches every case alike.
    runs: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in cases}
    for _ in range(max(1, args.repeat)):
        for label, path, case in cases:
            runs[label].append(run_case(case, path, args.config))
    print(f"{'case':34} {'records':>9} {'seconds':>8} {'records/s':>10} {'median/s':>10} {'MB/s':>7} {'peak RSS':>9}")
    results = {}
    for label, path, _case in cases:
        ordered = sorted(runs[label], key=lambda r: r["seconds"])
        r, median = ordered[0], ordered[len(ordered) // 2]
        mb = uncompressed_size(path) / 1e6
        results[label] = r
        print(f"{label:34} {r['records']:>9,} {r['seconds']:>8.2f} {r['records'] / r['seconds']:>10,.0f} "
              f"{median['records'] / median['seconds']:>10,.0f} {mb / r['seconds']:>7.1f} "
              f"{max(x['rss_mb'] for x in ordered):>7.0f}MB")
    if args.only == "cloudtrail":
        return
    floor = results["flow floor (gunzip+split+dumps)"]
    geo = results["flow logs, GeoIP"]
    ratio = (geo["records"] / geo["seconds"]) / (floor["records"] / floor["seconds"])
    print(f"flow logs with GeoIP run at {ratio:.0%} of the floor (fastest of {max(1, args.repeat)} runs each,"
          " peak RSS the largest)")


if __name__ == "__main__":
    main()
