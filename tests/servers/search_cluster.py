"""Real single-node Elasticsearch / OpenSearch for tests and benchmarks.

The integration-test zips on Maven Central are fetched once with ``mvn dependency:copy`` into
``~/.cache/aws-siem-connector/search/`` (override with ``AWS_SIEM_CONNECTOR_SEARCH_CACHE``),
unpacked once, and started on 127.0.0.1 on free ports with a small heap.

Both servers refuse to run as root; when the tests run as root the node runs as ``nobody``,
so the unpacked tree then lives in a world-readable directory (``/var/tmp/...``) rather than
under root's private home.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

JDK17 = "/usr/lib/jvm/java-17-openjdk-amd64"
JDK25 = "/usr/lib/jvm/temurin-25-jdk-amd64"
# Elasticsearch 9 and OpenSearch 3 need a newer JDK than 17; a machine without the Temurin 25 JDK
# runs the newest releases that JDK 17 supports instead.
_HAS_JDK25 = Path(JDK25, "bin", "java").exists()
# Maven Central's metadata for this coordinate stops at 8.19.x, but 9.x zips are served when asked
# for by exact version (9.1.0, 9.2.0, 9.2.4 resolve; some others do not).
ES_VERSION = os.environ.get("AWS_SIEM_CONNECTOR_ES_VERSION", "9.2.4" if _HAS_JDK25 else "8.19.21")
OS_VERSION = os.environ.get("AWS_SIEM_CONNECTOR_OPENSEARCH_VERSION", "3.3.0" if _HAS_JDK25 else "2.19.3")
START_TIMEOUT_S = 120.0


class ClusterStartError(RuntimeError):
    """The server could not be fetched or did not come up; the message carries the log tail."""


@dataclass(frozen=True)
class Distribution:
    """Where one server's zip comes from and how it is configured."""

    kind: str
    group: str
    artifact: str
    version: str
    java_home: str
    config_file: str
    env_prefix: str  # ES / OPENSEARCH: names of *_JAVA_HOME, *_JAVA_OPTS, *_PATH_CONF, *_TMPDIR

    @property
    def coordinate(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}:zip"

    @property
    def dirname(self) -> str:
        return f"{self.artifact}-{self.version}"


DISTRIBUTIONS = {
    "elasticsearch": Distribution(
        "elasticsearch",
        "org.elasticsearch.distribution.integ-test-zip",
        "elasticsearch",
        ES_VERSION,
        JDK17 if ES_VERSION.startswith("8.") else JDK25,
        "elasticsearch.yml",
        "ES",
    ),
    "opensearch": Distribution(
        "opensearch",
        "org.opensearch.distribution.integ-test-zip",
        "opensearch",
        OS_VERSION,
        JDK25 if not OS_VERSION.startswith("2.") else JDK17,
        "opensearch.yml",
        "OPENSEARCH",
    ),
}


def cache_dir() -> Path:
    """Where downloaded zips are kept between runs."""
    env = os.environ.get("AWS_SIEM_CONNECTOR_SEARCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "aws-siem-connector" / "search"


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _unpack_root() -> Path:
    # Root's home is private, and the node runs as nobody when we are root.
    if _running_as_root():
        return Path("/var/tmp/aws-siem-connector/search")
    return cache_dir()


def fetch(dist: Distribution) -> Path:
    """Download (once) and unpack (once) a distribution; return its home directory."""
    zips = cache_dir()
    zips.mkdir(parents=True, exist_ok=True)
    zip_path = zips / f"{dist.dirname}.zip"
    if not zip_path.exists():
        cmd = [
            "mvn",
            "-q",
            "-B",
            "dependency:copy",
            f"-Dartifact={dist.coordinate}",
            f"-DoutputDirectory={zips}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        if proc.returncode != 0 or not zip_path.exists():
            raise ClusterStartError(
                f"could not fetch {dist.coordinate} with mvn (exit {proc.returncode}):\n"
                + (proc.stdout + proc.stderr)[-3000:]
            )
    home = _unpack_root() / dist.dirname
    marker = home / ".unpacked"
    if not marker.exists():
        staging = Path(tempfile.mkdtemp(prefix=f".{dist.dirname}-", dir=home.parent if _mk(home.parent) else None))
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(staging)
        inner = staging / dist.dirname
        for script in (inner / "bin").iterdir():
            script.chmod(0o755)
        shutil.rmtree(home, ignore_errors=True)
        inner.rename(home)
        shutil.rmtree(staging, ignore_errors=True)
        _world_readable(home.parent)
        marker.touch()
    return home


def _mk(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return True


def _world_readable(top: Path) -> None:
    for p in [top, *top.parents]:
        if p == Path("/"):
            break
        with contextlib.suppress(PermissionError):
            p.chmod(p.stat().st_mode | 0o055)
        if p == Path("/var/tmp"):
            break
    for root, dirs, files in os.walk(top):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            fp = os.path.join(root, f)
            os.chmod(fp, os.stat(fp).st_mode | 0o044)


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (small race, acceptable in tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SearchCluster:
    """A running single node: its URL, kind, version, PID and log file."""

    kind: str
    url: str
    version: str
    pid: int
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the server's log, for error messages."""
        return _tail(self.log_path, lines)

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        kind: str,
        workdir: Path,
        *,
        heap: str = "512m",
        write_queue_size: int | None = None,
        extra_settings: dict[str, object] | None = None,
    ) -> Iterator[SearchCluster]:
        """Start a node, yield it once health is yellow/green, and stop it by its own PID."""
        if kind not in DISTRIBUTIONS:
            raise ValueError(f"unknown search server kind {kind!r}")
        dist = DISTRIBUTIONS[kind]
        home = fetch(dist)
        node_dir = Path(workdir) / f"{kind}-node"
        shutil.rmtree(node_dir, ignore_errors=True)
        conf = node_dir / "config"
        shutil.copytree(home / "config", conf)
        _localize_jvm_options(conf / "jvm.options", node_dir)
        for sub in ("data", "logs", "tmp"):
            (node_dir / sub).mkdir(parents=True)
        http_port, transport_port = free_port(), free_port()
        settings: dict[str, object] = {
            "cluster.name": f"aws-siem-connector-test-{kind}",
            "node.name": "node-1",
            "network.host": "127.0.0.1",
            "http.port": http_port,
            "transport.port": transport_port,
            "discovery.type": "single-node",
            "path.data": str(node_dir / "data"),
            "path.logs": str(node_dir / "logs"),
            "action.destructive_requires_name": False,
            # A test node on a shared 2-core machine must not go read-only when the disk fills.
            "cluster.routing.allocation.disk.threshold_enabled": False,
        }
        if kind == "elasticsearch":
            settings["xpack.security.enabled"] = False
        if write_queue_size is not None:
            settings["thread_pool.write.queue_size"] = write_queue_size
        settings.update(extra_settings or {})
        (conf / dist.config_file).write_text(
            "".join(f"{k}: {json.dumps(v)}\n" for k, v in settings.items())
        )
        log_path = node_dir / "logs" / "console.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ES_", "OPENSEARCH_", "JAVA_"))}
        env.update(
            {
                "JAVA_HOME": dist.java_home,
                f"{dist.env_prefix}_JAVA_HOME": dist.java_home,
                f"{dist.env_prefix}_JAVA_OPTS": f"-Xms{heap} -Xmx{heap} -XX:ActiveProcessorCount=2",
                f"{dist.env_prefix}_PATH_CONF": str(conf),
                f"{dist.env_prefix}_TMPDIR": str(node_dir / "tmp"),
                "HOME": str(node_dir),
            }
        )
        user = None
        if _running_as_root():
            user = "nobody"
            _chown_tree(node_dir, user)
            workdir = Path(workdir)
            workdir.chmod(workdir.stat().st_mode | 0o711)
            _check_traversable(node_dir, user)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [str(home / "bin" / dist.artifact)],
                cwd=node_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                user=user,
            )
        cluster = cls(kind, f"http://127.0.0.1:{http_port}", dist.version, proc.pid, log_path)
        try:
            cluster._wait_healthy(proc)
            yield cluster
        finally:
            _stop(proc)


    def _wait_healthy(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        last = ""
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ClusterStartError(
                    f"{self.kind} {self.version} exited with {proc.returncode} before it was healthy;"
                    f" log tail:\n{self.log_tail()}"
                )
            try:
                url = f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=2s"
                with urllib.request.urlopen(url, timeout=5) as resp:
                    status = json.loads(resp.read())["status"]
                if status in ("yellow", "green"):
                    return
                last = f"status {status}"
            except (OSError, urllib.error.URLError, ValueError, KeyError) as exc:
                last = str(exc)
            time.sleep(0.5)
        _stop(proc)
        raise ClusterStartError(
            f"{self.kind} {self.version} was not healthy after {START_TIMEOUT_S:.0f}s ({last});"
            f" log tail:\n{self.log_tail()}"
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop our own server: SIGTERM to its PID, then to its own process group if it lingers."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group was created for this server alone
        proc.wait(timeout=10)
    # The launcher may exit before the JVM it started; that JVM is in the same private group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _localize_jvm_options(path: Path, node_dir: Path) -> None:
    # The launcher runs from the distribution home, which the node user may not write to; GC
    # logs are dropped and crash files go to the node's own directory.
    kept = []
    for line in path.read_text().splitlines():
        if "-Xlog" in line:
            continue
        line = line.replace("HeapDumpPath=data", f"HeapDumpPath={node_dir / 'data'}")
        line = line.replace("ErrorFile=logs/", f"ErrorFile={node_dir / 'logs'}/")
        kept.append(line)
    path.write_text("\n".join(kept) + "\n")


def _chown_tree(top: Path, user: str) -> None:
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(top):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)


def _check_traversable(path: Path, user: str) -> None:
    for parent in path.parents:
        if not parent.stat().st_mode & 0o001:
            raise ClusterStartError(
                f"{parent} is not traversable by {user!r}, which the server must run as because"
                " we are root; use a work directory under /tmp"
            )


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def http_json(method: str, url: str, body: object | None = None) -> object:
    """A dependency-free JSON call for fixtures and assertions (not the code under test)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return {"_status": exc.code, **json.loads(exc.read() or b"{}")}


def document_ids(url: str, index: str) -> list[str]:
    """The ``_id`` of every document in ``index`` (a name or pattern), read with the scroll API so
    that any number comes back; a document stored twice would appear twice."""
    http_json("POST", f"{url}/{index}/_refresh")
    page = http_json("POST", f"{url}/{index}/_search?scroll=1m",
                     {"size": 10000, "_source": False, "query": {"match_all": {}}})
    ids: list[str] = []
    while isinstance(page, dict) and page.get("hits", {}).get("hits"):
        ids += [hit["_id"] for hit in page["hits"]["hits"]]
        page = http_json("POST", f"{url}/_search/scroll", {"scroll": "1m", "scroll_id": page["_scroll_id"]})
    assert isinstance(page, dict) and "hits" in page, page
    if "_scroll_id" in page:
        http_json("DELETE", f"{url}/_search/scroll", {"scroll_id": page["_scroll_id"]})
    return ids
