"""A real Splunk HEC endpoint for tests: the OpenTelemetry Collector's splunkhec receiver.

``tests/servers/hec/`` holds a minimal collector (splunkhec receiver with the ack extension and a
``Splunk``-scheme token check, feeding the file exporter). It is compiled once from the Go module
proxy into ``~/.cache/aws-siem-connector/hec-receiver/<hash of its sources>/`` (override the root
with ``AWS_SIEM_CONNECTOR_HEC_CACHE``), under a file lock so parallel test processes build it
once. ``HecReceiver`` starts it on 127.0.0.1 and reads back what arrived.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.servers.go_servers import build_cached, stop_process

SOURCE_DIR = Path(__file__).resolve().parent / "hec"
SOURCE_FILES = ("go.mod", "go.sum", "main.go")
BINARY_NAME = "hecreceiver"
BUILD_TIMEOUT_S = 1800.0
START_TIMEOUT_S = 30.0
FLUSH_INTERVAL = "20ms"


class HecReceiverError(RuntimeError):
    """The collector could not be built or started; the message carries the build or log output."""


def cache_root() -> Path:
    """Where built collectors live; kept between runs so only the first run pays for the build."""
    override = os.environ.get("AWS_SIEM_CONNECTOR_HEC_CACHE")
    if override:
        return Path(override)
    return Path.home() / ".cache" / "aws-siem-connector" / "hec-receiver"


def source_hash() -> str:
    """Hash of the collector's sources: a changed go.mod, go.sum or main.go means a new build."""
    digest = hashlib.sha256()
    for name in SOURCE_FILES:
        digest.update(name.encode() + b"\0" + (SOURCE_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def ensure_built() -> Path:
    """Return the collector binary, building it first if this source hash has no binary yet."""
    env = dict(os.environ)
    env.setdefault("GOFLAGS", "-mod=mod")
    # The checksum database has no entries for some contrib receiver modules; go.sum pins them.
    env.setdefault("GONOSUMDB", "github.com/open-telemetry/opentelemetry-collector-contrib")
    return build_cached(cache_root() / source_hash() / BINARY_NAME, SOURCE_DIR, ".", env, "the HEC receiver",
                        BUILD_TIMEOUT_S, HecReceiverError)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class HecReceiver:
    """A running collector that accepts HEC on 127.0.0.1 and records every event to a file."""

    def __init__(self, token: str | None = None, ack: bool = True) -> None:
        self.token = token or str(uuid.uuid4())
        self.ack = ack
        self.port = 0
        self.workdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL for the sink's ``hec_url``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def output_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "events.json"

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "collector.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def __enter__(self) -> HecReceiver:
        binary = ensure_built()
        self.workdir = Path(tempfile.mkdtemp(prefix="hec-receiver-"))
        last_error = ""
        for _ in range(3):  # a free port can be taken between probe and bind
            self.port = _free_port()
            config_path = self._write_config()
            with open(self.log_path, "wb") as log:
                self._proc = subprocess.Popen(
                    [str(binary), "--config", str(config_path)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.workdir,
                )
            try:
                self._wait_healthy()
                return self
            except HecReceiverError as exc:
                last_error = str(exc)
                self._terminate()
                if "address already in use" not in last_error:
                    break
        self._cleanup()
        raise HecReceiverError(last_error)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._terminate()
        self._cleanup()

    def _write_config(self) -> Path:
        assert self.workdir is not None
        receiver: dict[str, Any] = {
            "endpoint": f"127.0.0.1:{self.port}",
            "auth": {"authenticator": "bearertokenauth"},
        }
        extensions: dict[str, Any] = {"bearertokenauth": {"scheme": "Splunk", "token": self.token}}
        if self.ack:
            extensions["ack"] = {}
            receiver["ack"] = {"extension": "ack"}
        config = {
            "extensions": extensions,
            "receivers": {"splunk_hec": receiver},
            "exporters": {"file": {"path": str(self.output_path), "flush_interval": FLUSH_INTERVAL}},
            "service": {
                "extensions": list(extensions),
                "telemetry": {"metrics": {"level": "none"}, "logs": {"level": "warn"}},
                "pipelines": {"logs": {"receivers": ["splunk_hec"], "exporters": ["file"]}},
            },
        }
        path = self.workdir / "config.yaml"
        path.write_text(json.dumps(config, indent=2))  # JSON is YAML
        return path

    def _wait_healthy(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        request = urllib.request.Request(
            f"{self.url}/services/collector/health", headers={"Authorization": f"Splunk {self.token}"}
        )
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise HecReceiverError(
                    f"the HEC receiver exited with {self._proc.returncode} at start:\n{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(request, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise HecReceiverError(
            f"the HEC receiver did not become healthy within {START_TIMEOUT_S:.0f}s:\n{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return "(no log)"

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        stop_process(proc)

    def _cleanup(self) -> None:
        if self.workdir is not None and not os.environ.get("AWS_SIEM_CONNECTOR_KEEP_HEC"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def read_events(self, expected: int | None = None, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Every event received so far, as HEC-shaped dicts; with ``expected``, wait for that many.

        After the count is reached it reads once more a moment later, so that extra (duplicate)
        events are seen too rather than cut off.
        """
        deadline = time.monotonic() + timeout
        events = self._parse()
        if expected is None:
            return events
        while len(events) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
            events = self._parse()
        time.sleep(0.2)
        return self._parse()

    def _parse(self) -> list[dict[str, Any]]:
        try:
            raw = self.output_path.read_bytes()
        except FileNotFoundError:
            return []
        events: list[dict[str, Any]] = []
        for line in raw.splitlines():
            if not line.strip():
                continue
            try:
                request = json.loads(line)
            except json.JSONDecodeError:
                break  # a line still being written; the next read sees it whole
            for resource_logs in request.get("resourceLogs", []):
                meta = _attributes(resource_logs.get("resource", {}).get("attributes", []))
                for scope_logs in resource_logs.get("scopeLogs", []):
                    for record in scope_logs.get("logRecords", []):
                        events.append(_hec_event(meta, record))
        return events


_META_KEYS = {
    "host.name": "host",
    "com.splunk.source": "source",
    "com.splunk.sourcetype": "sourcetype",
    "com.splunk.index": "index",
}


def _hec_event(meta: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    nanos = int(record.get("timeUnixNano", 0))
    event: dict[str, Any] = {
        # HEC time travels as a float; round back to the milliseconds the sender had.
        "time": round(nanos / 1_000_000) / 1000 if nanos else None,
        "host": meta.get("host.name"),
        "source": meta.get("com.splunk.source"),
        "sourcetype": meta.get("com.splunk.sourcetype"),
        "index": meta.get("com.splunk.index"),
        "event": _value(record.get("body", {})),
        "fields": _attributes(record.get("attributes", [])),
    }
    return event


def _attributes(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: _value(item.get("value", {})) for item in items}


def _value(value: dict[str, Any]) -> Any:
    """Decode an OTLP/JSON AnyValue; integral doubles become ints (HEC JSON numbers are floats)."""
    if "stringValue" in value:
        return value["stringValue"]
    if "doubleValue" in value:
        number = value["doubleValue"]
        if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
            return int(number)
        return number
    if "intValue" in value:
        return int(value["intValue"])
    if "boolValue" in value:
        return value["boolValue"]
    if "kvlistValue" in value:
        return _attributes(value["kvlistValue"].get("values", []))
    if "arrayValue" in value:
        return [_value(v) for v in value["arrayValue"].get("values", [])]
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


__all__ = ["HecReceiver", "HecReceiverError", "cache_root", "ensure_built", "source_hash"]
