"""Memory under load: peak RSS of `normalize` on large objects, and RSS of `forward` under a
sustained stream.

    .venv/bin/python bench/bench_memory.py normalize [--flow-mb 2000] [--trail-mb 500]
        [--fractions 0.1,1] [--only flows|cloudtrail] [--scan] [--data DIR]
    .venv/bin/python bench/bench_memory.py forward [--minutes 5] [--rate 2] [--flow-lines 10000]
        [--trail-records 1000] [--trail-every 5] [--warmup 60] [--sample 5] [--workers N]

``normalize`` generates, streamed to disk and gzipped as AWS writes them, a flow-log object in
the default (v2) format and a CloudTrail object (one ``{"Records": [...]}`` document) of the
given uncompressed sizes, and of each fraction of them (0.1: ten times smaller, to show whether
peak RSS follows the object's size); ``--scan`` makes every record come from a new public address,
the worst case for the address caches. It runs ``aws-siem-connector normalize PATH > /dev/null``
(GeoIP on, as by default) on each and reports wall time, records/s, MB/s of uncompressed input
and peak RSS: the kernel's high-water mark of the child (``ru_maxrss`` from ``wait4``), with
VmRSS sampled every 0.5 s for the curve and for its largest anonymous (heap) and file-backed
(code, memory-mapped GeoIP database) parts. The objects go to a temporary directory removed at the
end, or to ``--data DIR``, where they are kept and reused.

``forward`` starts moto on 127.0.0.1 (a bucket that notifies an SQS queue), then
``aws-siem-connector forward --sink file`` (its files truncated at every sample, so the disk
does not fill), and puts ``--rate`` new objects a second for ``--minutes``: flow logs of
``--flow-lines`` records, and every ``--trail-every``-th a CloudTrail object of
``--trail-records``. Every ``--sample`` seconds it reads the RSS of the service process, of each
worker process and of the whole tree, and the records delivered (``/metrics``). It reports the
RSS at 1 minute and at the end, the minimum and maximum after ``--warmup`` seconds, and the
slope over those samples (MB per minute, least squares).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ACCOUNT = "123456789012"
HEADER = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
          "action log-status")
BUCKET = "bench-memory-logs"
QUEUE = "bench-memory-events"
BLOCK_LINES = 5_000
BLOCK_RECORDS = 1_000
SAMPLE_SECONDS = 0.5
MB = 1e6


# --- generated objects ---------------------------------------------------------------------------

def _random_public(rnd: random.Random) -> str:
    n = rnd.getrandbits(32)
    return f"{(n >> 24) % 223 + 1}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


class FlowLines:
    """Default-format (v2) flow records of an internet-facing VPC: 70% of the public peers from
    5,000 frequent talkers, the rest from anywhere in IPv4 (scanners, one-off peers), so the
    address cache fills and is recycled as it is in production; 1% NODATA records. ``scan``: every
    public peer drawn from anywhere (an internet-wide scan, the address cache's worst case)."""

    def __init__(self, seed: int, start: int = 1_767_225_600, scan: bool = False) -> None:
        self.rnd = rnd = random.Random(seed)
        self.hot = [_random_public(rnd) for _ in range(5_000)]
        self.private = [f"10.{rnd.randint(0, 3)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}" for _ in range(2_000)]
        self.enis = [f"eni-{rnd.getrandbits(64):017x}" for _ in range(50)]
        self.start = start
        self.scan = scan
        self.count = 0

    def block(self, lines: int) -> str:
        """``lines`` records, each ending with a newline."""
        rnd = self.rnd
        random_, choice, bits = rnd.random, rnd.choice, rnd.getrandbits
        hot, private, enis, scan = self.hot, self.private, self.enis, self.scan
        out: list[str] = []
        for _ in range(lines):
            t = self.start + self.count // 5_000
            self.count += 1
            roll = random_()
            if roll < 0.01:
                out.append(f"2 {ACCOUNT} {choice(enis)} - - - - - - - {t} {t + 60} - NODATA\n")
                continue
            public = choice(hot) if random_() < 0.7 and not scan else _random_public(rnd)
            if roll < 0.45:
                src, dst, dport = public, choice(private), choice((443, 80, 22, 3389, 8080))
            elif roll < 0.75:
                src, dst, dport = choice(private), public, choice((443, 53, 123))
            else:
                src, dst, dport = choice(private), choice(private), choice((3306, 5432, 6379, 443))
            proto = 17 if dport in (53, 123) else 6
            action = "REJECT" if random_() < 0.15 else "ACCEPT"
            out.append(f"2 {ACCOUNT} {choice(enis)} {src} {dst} {1024 + bits(16) % 64512} {dport} {proto} "
                       f"{1 + bits(9) % 400} {40 + bits(20) % 900_000} {t} {t + 60} {action} OK\n")
        return "".join(out)


_AGENTS = ("aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6",
           "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.11.9",
           "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 "
           "Safari/537.36",
           "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.171.0",
           "console.amazonaws.com", "AWS Internal")
_SERVICE_SOURCES = ("ec2.amazonaws.com", "lambda.amazonaws.com", "cloudformation.amazonaws.com")


class TrailRecords:
    """CloudTrail management events as AWS writes them (``eventVersion`` first, compact JSON):
    API calls of IAM users and assumed roles, console sign-ins and service calls, from 2,000
    frequent addresses and some from anywhere; 5% of calls denied. ``scan``: every source address
    drawn from anywhere (the worst case for the address caches)."""

    def __init__(self, seed: int, scan: bool = False) -> None:
        self.rnd = rnd = random.Random(seed)
        self.ips = [_random_public(rnd) for _ in range(2_000)]
        self.users = [f"user{i}" for i in range(60)]
        self.roles = [f"role-{name}" for name in ("deploy", "reporting", "lambda-exec", "ops", "readonly")]
        self.scan = scan
        self.count = 0

    def block(self, records: int) -> bytes:
        """``records`` records, comma-separated (elements of the Records array)."""
        return b",".join(orjson.dumps(self._record()) for _ in range(records))

    def _record(self) -> dict[str, Any]:
        rnd = self.rnd
        i = self.count
        self.count += 1
        when = f"2026-01-01T{(i // 36_000) % 24:02d}:{(i // 600) % 60:02d}:{(i // 10) % 60:02d}Z"
        roll = rnd.random()
        if roll < 0.5:
            user = rnd.choice(self.users)
            identity: dict[str, Any] = {
                "type": "IAMUser", "principalId": f"AIDA{rnd.getrandbits(40):012X}",
                "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}", "accountId": ACCOUNT,
                "accessKeyId": f"AKIA{rnd.getrandbits(40):012X}", "userName": user}
        elif roll < 0.9:
            role = rnd.choice(self.roles)
            session = f"session-{rnd.getrandbits(24):06x}"
            identity = {
                "type": "AssumedRole", "principalId": f"AROA{rnd.getrandbits(40):012X}:{session}",
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}", "accountId": ACCOUNT,
                "accessKeyId": f"ASIA{rnd.getrandbits(40):012X}",
                "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": f"AROA{i % 97:012d}",
                                                     "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                                                     "accountId": ACCOUNT, "userName": role},
                                   "attributes": {"creationDate": when, "mfaAuthenticated": "false"}}}
        else:
            identity = {"type": "AWSService", "invokedBy": rnd.choice(_SERVICE_SOURCES)}
        source_ip = rnd.choice(self.ips) if rnd.random() < 0.85 and not self.scan else _random_public(rnd)
        if identity["type"] == "AWSService":
            source_ip = identity["invokedBy"]
        call = rnd.random()
        if call < 0.35:
            source, name = "ec2.amazonaws.com", rnd.choice(("DescribeInstances", "DescribeSecurityGroups"))
            params: Any = {"instancesSet": {"items": [{"instanceId": f"i-{rnd.getrandbits(68):017x}"}]},
                           "filterSet": {}, "maxResults": 50}
        elif call < 0.6:
            source, name = "s3.amazonaws.com", rnd.choice(("GetObject", "PutObject", "ListObjects"))
            params = {"bucketName": f"data-{rnd.getrandbits(8)}", "Host": "s3.us-east-1.amazonaws.com",
                      "key": f"reports/2026/01/{rnd.getrandbits(32):08x}.csv"}
        elif call < 0.75:
            source, name = "sts.amazonaws.com", "AssumeRole"
            params = {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/{rnd.choice(self.roles)}",
                      "roleSessionName": f"session-{rnd.getrandbits(24):06x}", "durationSeconds": 3600}
        elif call < 0.85:
            source, name = "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"
            params = {"groupId": f"sg-{rnd.getrandbits(68):017x}", "ipPermissions": {"items": [
                {"ipProtocol": "tcp", "fromPort": rnd.choice((22, 443, 3389)), "toPort": 443,
                 "ipRanges": {"items": [{"cidrIp": f"{_random_public(rnd)}/32"}]}}]}}
        elif call < 0.95:
            source, name = "iam.amazonaws.com", rnd.choice(("CreateUser", "AttachUserPolicy", "ListRoles"))
            params = {"userName": f"tmp-{rnd.getrandbits(16):04x}",
                      "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
        else:
            source, name, params = "signin.amazonaws.com", "ConsoleLogin", None
        rec: dict[str, Any] = {
            "eventVersion": "1.09", "userIdentity": identity, "eventTime": when, "eventSource": source,
            "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": source_ip,
            "userAgent": rnd.choice(_AGENTS), "requestParameters": params, "responseElements": None,
            "requestID": f"{rnd.getrandbits(128):032x}", "eventID": f"{rnd.getrandbits(128):032x}",
            "readOnly": name.startswith(("Describe", "Get", "List")), "eventType": "AwsApiCall",
            "managementEvent": True, "recipientAccountId": ACCOUNT, "eventCategory": "Management",
            "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                           "clientProvidedHostHeader": f"{source.split('.')[0]}.us-east-1.amazonaws.com"},
        }
        if name == "ConsoleLogin":
            rec["eventType"] = "AwsConsoleSignIn"
            failed = rnd.random() < 0.2
            rec["responseElements"] = {"ConsoleLogin": "Failure" if failed else "Success"}
            rec["additionalEventData"] = {"MFAUsed": "No", "LoginTo": "https://console.aws.amazon.com/"}
            if failed:
                rec["errorMessage"] = "Failed authentication"
        elif rnd.random() < 0.05:
            rec["errorCode"] = "AccessDenied"
            rec["errorMessage"] = f"User is not authorized to perform: {source.split('.')[0]}:{name}"
        return rec


def flow_object(data: Path, target_bytes: int, scan: bool = False, seed: int = 42) -> Path:
    """A flow-log object of about ``target_bytes`` uncompressed, gzip, header first (made once)."""
    name = f"{target_bytes // 1_000_000}mb{'_scan' if scan else ''}"
    path = data / (f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/2026/01/01/"
                   f"{ACCOUNT}_vpcflowlogs_us-east-1_fl-0bench_20260101T0000Z_{name}.log.gz")
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = FlowLines(seed, scan=scan)
    partial = path.with_name(path.name + ".part")
    written = 0
    with gzip.open(partial, "wb", compresslevel=6) as out:
        head = (HEADER + "\n").encode()
        out.write(head)
        written += len(head)
        while written < target_bytes:
            chunk = lines.block(BLOCK_LINES).encode()
            out.write(chunk)
            written += len(chunk)
    partial.rename(path)
    return path


def trail_object(data: Path, target_bytes: int, scan: bool = False, seed: int = 7) -> Path:
    """A CloudTrail object of about ``target_bytes`` uncompressed: one ``{"Records":[...]}`` document."""
    name = f"{target_bytes // 1_000_000}mb{'_scan' if scan else ''}"
    path = data / (f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/01/01/"
                   f"{ACCOUNT}_CloudTrail_us-east-1_20260101T0000Z_{name}.json.gz")
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    records = TrailRecords(seed, scan=scan)
    partial = path.with_name(path.name + ".part")
    written = 0
    with gzip.open(partial, "wb", compresslevel=6) as out:
        out.write(b'{"Records":[')
        while written < target_bytes:
            chunk = (b"," if written else b"") + records.block(BLOCK_RECORDS)
            out.write(chunk)
            written += len(chunk)
        out.write(b"]}")
    partial.rename(path)
    return path


def gunzipped_size(path: Path) -> int:
    """Uncompressed bytes of a gzip file (the size a reader sees)."""
    with gzip.open(path, "rb") as f:
        return sum(len(chunk) for chunk in iter(lambda: f.read(1 << 20), b""))


# --- measuring processes ------------------------------------------------------------------------

def status_kb(pid: int, *fields: str) -> dict[str, int]:
    """``VmRSS``, ``VmHWM``... of a process from /proc, in kB; empty when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            text = status.read()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name in fields:
            out[name] = int(value.split()[0])
    return out


def connector_command() -> list[str]:
    """The console script of this virtual environment."""
    script = Path(sys.executable).with_name("aws-siem-connector")
    return [str(script)] if script.exists() else [sys.executable, "-m", "connector"]


@dataclass
class RssCurve:
    """VmRSS of one process sampled by a thread every ``SAMPLE_SECONDS``, and the largest samples
    of its two parts: anonymous memory (the heap) and mapped files (code, the GeoIP database)."""

    pid: int
    samples: list[tuple[float, int]] = field(default_factory=list)
    hwm_kb: int = 0
    anon_kb: int = 0
    file_kb: int = 0

    def follow(self, started: float, stop: threading.Event) -> None:
        """Sample until ``stop`` is set (the body of the sampling thread)."""
        while not stop.is_set():
            values = status_kb(self.pid, "VmRSS", "VmHWM", "RssAnon", "RssFile")
            if "VmRSS" in values:
                self.samples.append((time.perf_counter() - started, values["VmRSS"]))
                self.hwm_kb = max(self.hwm_kb, values["VmHWM"])
                self.anon_kb = max(self.anon_kb, values["RssAnon"])
                self.file_kb = max(self.file_kb, values["RssFile"])
            stop.wait(SAMPLE_SECONDS)

    def at_fractions(self, steps: int = 10) -> list[int]:
        """RSS in MB at 0%, 10%, ... 100% of the run (nearest sample)."""
        if not self.samples:
            return []
        end = self.samples[-1][0]
        picked = []
        for k in range(steps + 1):
            target = end * k / steps
            picked.append(min(self.samples, key=lambda s: abs(s[0] - target))[1])
        return [round(kb * 1024 / MB) for kb in picked]


@dataclass
class NormalizeRun:
    """One ``normalize`` run: what it wrote and what it took."""

    records: int
    dead_lettered: int
    seconds: float
    peak_mb: float
    sampled_hwm_mb: float
    anon_mb: float
    file_mb: float
    curve: list[int]


def run_normalize(path: Path, work: Path) -> NormalizeRun:
    """``aws-siem-connector normalize PATH > /dev/null`` as a child; its wall time and peak RSS."""
    stderr_path = work / "normalize.stderr"
    command = [*connector_command(), "normalize", "--dlq", str(work / "dead-letters.ndjson"), str(path)]
    with open(os.devnull, "wb") as devnull, open(stderr_path, "wb") as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=devnull, stderr=stderr, cwd=work)
        curve = RssCurve(proc.pid)
        stop = threading.Event()
        sampler = threading.Thread(target=curve.follow, args=(started, stop), daemon=True)
        sampler.start()
        # wait4 rather than Popen.wait: it returns the child's own resource usage.
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        sampler.join()
    text = stderr_path.read_text(errors="replace")
    summary = re.search(r"written (\d+), skipped \d+, dead-lettered (\d+)", text)
    if proc.returncode not in (0, 1) or summary is None:
        raise SystemExit(f"normalize failed ({proc.returncode}):\n{text[-3000:]}")
    return NormalizeRun(int(summary.group(1)), int(summary.group(2)), seconds, usage.ru_maxrss * 1024 / MB,
                        curve.hwm_kb * 1024 / MB, curve.anon_kb * 1024 / MB, curve.file_kb * 1024 / MB,
                        curve.at_fractions())


def command_normalize(args: argparse.Namespace) -> None:
    """Generate the objects, run ``normalize`` on each, print one line per object."""
    fractions = sorted({float(f) for f in args.fractions.split(",")})
    kinds = [k for k in ("flows", "cloudtrail") if args.only in (None, k)]
    with contextlib.ExitStack() as stack:
        if args.data:
            data = Path(args.data)
        else:
            data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-memory-", dir="/tmp")))
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-memory-run-")))
        cases: list[tuple[str, Path]] = []
        for kind in kinds:
            for fraction in fractions:
                started = time.perf_counter()
                if kind == "flows":
                    path = flow_object(data, int(args.flow_mb * fraction * MB), args.scan)
                else:
                    path = trail_object(data, int(args.trail_mb * fraction * MB), args.scan)
                took = time.perf_counter() - started
                if took > 1:
                    print(f"generated {path.name} in {took:.0f}s", flush=True)
                cases.append((kind, path))
        # The child's ru_maxrss starts from this process's RSS when it is spawned (fork/vfork,
        # then exec keeps the high-water mark): it is the child's own only when above ours.
        own_mb = status_kb(os.getpid(), "VmHWM")["VmHWM"] * 1024 / MB
        print(f"{os.cpu_count()} cores; GeoIP on (embedded City database); output to /dev/null; "
              f"this process's own peak {own_mb:.0f} MB")
        print(f"{'object':11} {'MB raw':>7} {'MB gzip':>7} {'records':>11} {'seconds':>7} {'records/s':>9} "
              f"{'MB/s':>5} {'peak RSS':>8} {'anon':>5} {'file':>5}  RSS (MB) at 0%, 10% ... 100% of the run")
        for kind, path in cases:
            raw = gunzipped_size(path)
            run = run_normalize(path, work)
            flag = "" if run.peak_mb > own_mb else " (not above this process's own peak: see VmHWM)"
            print(f"{kind:11} {raw / MB:>7,.0f} {path.stat().st_size / MB:>7,.0f} {run.records:>11,} "
                  f"{run.seconds:>7.1f} {run.records / run.seconds:>9,.0f} {raw / MB / run.seconds:>5.1f} "
                  f"{run.peak_mb:>6.0f}MB {run.anon_mb:>5.0f} {run.file_mb:>5.0f}  "
                  f"{' '.join(str(v) for v in run.curve)}{flag}", flush=True)
            if run.dead_lettered:
                print(f"  {run.dead_lettered} dead letters (see {work / 'dead-letters.ndjson'})")
            if run.sampled_hwm_mb and abs(run.sampled_hwm_mb - run.peak_mb) > 5:
                print(f"  sampled VmHWM {run.sampled_hwm_mb:.0f} MB")


# --- forward under a sustained stream -----------------------------------------------------------

def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        ppid = int(text[text.rindex(")") + 2:].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def tree_rss(root: int) -> dict[str, list[int]]:
    """VmRSS in kB of the service (``root``), its forkserver, its workers and the rest of its tree."""
    children = _children()
    roles: dict[str, list[int]] = {"service": [], "forkserver": [], "worker": [], "other": []}
    stack = [(root, "service")]
    while stack:
        pid, role = stack.pop()
        rss = status_kb(pid, "VmRSS").get("VmRSS")
        if rss is not None:
            roles[role].append(rss)
        for child in children.get(pid, []):
            if role == "forkserver":
                child_role = "worker"
            elif "forkserver" in _cmdline(child):
                child_role = "forkserver"
            else:
                child_role = "other"  # the resource tracker
            stack.append((child, child_role))
    return roles


def records_out(metrics_url: str) -> int:
    """Records the sink accepted, from the service's /metrics."""
    try:
        with urllib.request.urlopen(metrics_url, timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return -1
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith("aws_siem_connector_records_out_total{"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _client(url: str, service: str) -> Any:
    """A boto3 client of the moto server at ``url``."""
    import boto3

    from tests.servers.moto_server import REGION

    return boto3.client(service, endpoint_url=url, region_name=REGION,  # type: ignore[call-overload]
                        aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing")


def _gzip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6, mtime=0) as out:
        out.write(data)
    return buffer.getvalue()


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) points, in MB per minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return cov / var * 60 if var else 0.0


@dataclass
class Sample:
    """One reading of the service tree."""

    seconds: float
    service_mb: float
    workers_mb: list[float]
    total_mb: float
    records: int
    queue: tuple[int, int]


def _sample(started: float, forward_pid: int, metrics_url: str, sqs: Any, queue_url: str) -> Sample:
    roles = tree_rss(forward_pid)
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    return Sample(time.monotonic() - started, sum(roles["service"]) * 1024 / MB,
                  sorted(kb * 1024 / MB for kb in roles["worker"]),
                  sum(sum(v) for v in roles.values()) * 1024 / MB, records_out(metrics_url),
                  (int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])))


def _truncate_outputs(out: Path) -> None:
    # The sink appends (O_APPEND): after truncation its next write lands at the new end.
    for path in out.glob("*.ndjson"):
        with contextlib.suppress(OSError):
            os.truncate(path, 0)


def _report_forward(samples: list[Sample], warmup: float) -> None:
    def at(seconds: float) -> Sample:
        return min(samples, key=lambda s: abs(s.seconds - seconds))

    after = [s for s in samples if s.seconds >= warmup]
    first, last = at(60), samples[-1]
    series: dict[str, Callable[[Sample], float]] = {
        "service process": lambda s: s.service_mb,
        "largest worker": lambda s: max(s.workers_mb, default=0.0),
        "smallest worker": lambda s: min(s.workers_mb, default=0.0),
        "whole tree (sum)": lambda s: s.total_mb,
    }
    print(f"\n{'RSS':18} {'at 1 min':>9} {'at end':>9} {'min':>7} {'max':>7} {'MB/min':>7}"
          f"   (min, max, slope over {len(after)} samples after {warmup:g}s)")
    for label, value in series.items():
        values = [value(s) for s in after] or [0.0]
        slope = slope_per_minute([(s.seconds, value(s)) for s in after])
        print(f"{label:18} {value(first):>7.1f}MB {value(last):>7.1f}MB {min(values):>5.1f}MB "
              f"{max(values):>5.1f}MB {slope:>+7.2f}")


def command_forward(args: argparse.Namespace) -> None:
    """Run the service against moto under a steady stream of objects; report its RSS over time."""
    from tests.servers.moto_server import moto_server

    flow_pool = [_gzip((HEADER + "\n" + FlowLines(1_000 + n).block(args.flow_lines)).encode())
                 for n in range(args.pool)]
    trail_pool = [_gzip(b'{"Records":[' + TrailRecords(2_000 + n).block(args.trail_records) + b"]}")
                  for n in range(max(1, args.pool // 4))]
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-memory-forward-")))
        moto = stack.enter_context(moto_server(tmp))
        s3, sqs = _client(moto.url, "s3"), _client(moto.url, "sqs")
        s3.create_bucket(Bucket=BUCKET)
        queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
        out = tmp / "out"
        port = _free_port()
        metrics_url = f"http://127.0.0.1:{port}/metrics"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AWS_SIEM_CONNECTOR_"))}
        env.update(moto.env, AWS_SIEM_CONNECTOR_FORWARD__METRICS_HOST="127.0.0.1")
        command = [*connector_command(), "forward", "--queue-url", queue_url, "--sink", "file", "--out", str(out),
                   "--dlq", str(tmp / "dead-letters.ndjson"), "--metrics-port", str(port)]
        if args.workers:
            command += ["--workers", str(args.workers)]
        log_path = tmp / "forward.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(command, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
        stack.callback(_stop, proc)
        deadline = time.monotonic() + 60
        while records_out(metrics_url) < 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"forward did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        flow_mb = sum(len(gzip.decompress(b)) for b in flow_pool) / len(flow_pool) / MB
        per_second = args.rate * ((args.trail_every - 1) * args.flow_lines + args.trail_records) / args.trail_every
        print(f"{os.cpu_count()} cores shared with moto; forward pid {proc.pid}, sink file (truncated every sample);"
              f" {args.rate:g} objects/s: flow logs of {args.flow_lines:,} records ({flow_mb:.1f} MB), every "
              f"{args.trail_every}th CloudTrail of {args.trail_records:,}: {per_second:,.0f} records/s offered")
        print(f"{'seconds':>7} {'service':>8} {'workers':>15} {'tree':>8} {'records out':>12} {'records/s':>9} "
              f"{'queue':>7}", flush=True)
        started = time.monotonic()
        end = started + args.minutes * 60
        samples: list[Sample] = []
        put = 0
        next_put = next_sample = started
        while True:
            now = time.monotonic()
            if proc.poll() is not None:
                raise SystemExit(f"forward exited ({proc.returncode}):\n{log_path.read_text(errors='replace')[-3000:]}")
            if now >= end:
                break
            if now >= next_sample:
                _truncate_outputs(out)
                sample = _sample(started, proc.pid, metrics_url, sqs, queue_url)
                rate = 0.0
                if samples:
                    previous = samples[-1]
                    rate = (sample.records - previous.records) / max(sample.seconds - previous.seconds, 1e-9)
                samples.append(sample)
                if len(samples) == 1 or sample.seconds // args.print_every > samples[-2].seconds // args.print_every:
                    workers = "+".join(f"{w:.0f}" for w in sample.workers_mb)
                    print(f"{sample.seconds:>7.0f} {sample.service_mb:>6.0f}MB {workers:>13}MB "
                          f"{sample.total_mb:>6.0f}MB {sample.records:>12,} {rate:>9,.0f} "
                          f"{sample.queue[0]:>3}+{sample.queue[1]:<3}", flush=True)
                next_sample += args.sample
            if now >= next_put:
                put += 1
                if put % args.trail_every == 0:
                    key = (f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/01/01/"
                           f"{ACCOUNT}_CloudTrail_us-east-1_20260101T0000Z_{put:08x}.json.gz")
                    body = trail_pool[put % len(trail_pool)]
                else:
                    key = (f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/2026/01/01/"
                           f"{ACCOUNT}_vpcflowlogs_us-east-1_fl-0bench_20260101T0000Z_{put:08x}.log.gz")
                    body = flow_pool[put % len(flow_pool)]
                s3.put_object(Bucket=BUCKET, Key=key, Body=body)
                next_put += 1 / args.rate
            time.sleep(max(0.0, min(next_put, next_sample) - time.monotonic()))
        final = _sample(started, proc.pid, metrics_url, sqs, queue_url)
        samples.append(final)
        _stop(proc)
        log_text = log_path.read_text(errors="replace")
        stopped = re.search(r"stopped: [^\"\n]*", log_text)  # the log is JSON lines
        dead = tmp / "dead-letters.ndjson"
        dead_count = len(dead.read_bytes().splitlines()) if dead.exists() else 0
        print(f"\n{put} objects put in {final.seconds:.0f}s; {final.records:,} records delivered "
              f"({final.records / final.seconds:,.0f}/s); queue at the end {final.queue[0]} visible + "
              f"{final.queue[1]} in flight; {dead_count} dead letters")
        if stopped:
            print(f"service: {stopped.group(0)}")
        _report_forward(samples, args.warmup)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the service drains), then SIGKILL if it does not exit; only our own child, by PID."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> None:
    """Parse the sub-command and run it."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    norm = commands.add_parser("normalize", help="peak RSS of normalize on a large flow-log and CloudTrail object")
    norm.add_argument("--flow-mb", type=float, default=2000, help="flow-log object, MB uncompressed (default: 2000)")
    norm.add_argument("--trail-mb", type=float, default=500, help="CloudTrail object, MB uncompressed (default: 500)")
    norm.add_argument("--fractions", default="0.1,1",
                      help="sizes to run, as fractions of the above (default: 0.1,1)")
    norm.add_argument("--only", choices=("flows", "cloudtrail"), help="one of the two objects")
    norm.add_argument("--data", metavar="DIR", help="keep (and reuse) the generated objects here")
    norm.add_argument("--scan", action="store_true",
                      help="every record from a new public address (the address caches' worst case)")
    fwd = commands.add_parser("forward", help="RSS of forward under a sustained stream of S3 objects")
    fwd.add_argument("--minutes", type=float, default=5, help="how long to feed it (default: 5)")
    fwd.add_argument("--rate", type=float, default=2, help="objects put per second (default: 2)")
    fwd.add_argument("--flow-lines", type=int, default=10_000, help="records per flow-log object (default: 10000)")
    fwd.add_argument("--trail-records", type=int, default=1_000,
                     help="records per CloudTrail object (default: 1000)")
    fwd.add_argument("--trail-every", type=int, default=5, help="every Nth object is CloudTrail (default: 5)")
    fwd.add_argument("--pool", type=int, default=20, help="distinct flow-log bodies cycled under new keys")
    fwd.add_argument("--warmup", type=float, default=60, help="seconds left out of min/max/slope (default: 60)")
    fwd.add_argument("--sample", type=float, default=5, help="seconds between RSS samples (default: 5)")
    fwd.add_argument("--print-every", type=float, default=30, help="seconds between printed samples")
    fwd.add_argument("--workers", type=int, help="forward --workers (default: the service's, the CPU count)")
    args = parser.parse_args()
    if args.command == "normalize":
        command_normalize(args)
    else:
        command_forward(args)


if __name__ == "__main__":
    main()
