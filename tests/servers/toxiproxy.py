"""A real TCP fault proxy for tests: Shopify's Toxiproxy between the connector and a server.

The server (``github.com/Shopify/toxiproxy/v2/cmd/server``) is compiled once from the Go module
proxy, from a go.mod generated here that pins the release, into
``~/.cache/aws-siem-connector/toxiproxy/<version>/`` (override the root with
``AWS_SIEM_CONNECTOR_TOXIPROXY_CACHE``), under a file lock so parallel test processes build it
once. ``Toxiproxy`` starts it on 127.0.0.1 with a free API port and stops it by its PID; a
``ProxyLink`` is one proxy in front of one server, driven through Toxiproxy's HTTP API: disable it
(the server is unreachable), enable it again, or add toxics (latency, bandwidth, limit_data,
reset_peer, timeout, ...) to either direction.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.servers.go_servers import build_cached, stop_process

MODULE = "github.com/Shopify/toxiproxy/v2"
VERSION = "v2.12.0"
PACKAGE = f"{MODULE}/cmd/server"
BINARY_NAME = "toxiproxy-server"
BUILD_TIMEOUT_S = 900.0
START_TIMEOUT_S = 20.0
# Toxics that act with a probability (toxicity < 1) draw from this seed: the same run, the same draws.
SEED = 20240501
_GO_MOD = f"module aws-siem-connector/tests/toxiproxy\n\ngo 1.23\n\nrequire {MODULE} {VERSION}\n"


class ToxiproxyError(RuntimeError):
    """Toxiproxy could not be built, started or driven; the message carries the output or answer."""


def cache_root() -> Path:
    """Where built servers live; kept between runs so only the first run pays for the build."""
    override = os.environ.get("AWS_SIEM_CONNECTOR_TOXIPROXY_CACHE")
    if override:
        return Path(override)
    return Path.home() / ".cache" / "aws-siem-connector" / "toxiproxy"


def ensure_built() -> Path:
    """Return the Toxiproxy server binary, building the pinned release first if it is not cached."""
    target_dir = cache_root() / VERSION
    binary = target_dir / BINARY_NAME
    if binary.exists():
        return binary
    env = dict(os.environ)
    # The generated go.mod comes without go.sum: the build records the checksums it verifies.
    flags = env.get("GOFLAGS", "")
    if "-mod=" not in flags:
        env["GOFLAGS"] = f"{flags} -mod=mod".strip()
    target_dir.mkdir(parents=True, exist_ok=True)
    # A module of this process's own: the build rewrites go.mod, and another process may be building.
    with tempfile.TemporaryDirectory(prefix="module-", dir=target_dir) as module_dir:
        Path(module_dir, "go.mod").write_text(_GO_MOD)
        return build_cached(binary, Path(module_dir), PACKAGE, env, "Toxiproxy", BUILD_TIMEOUT_S, ToxiproxyError)


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def listen_port() -> int:
    """A free port on 127.0.0.1 below the kernel's ephemeral range.

    A disabled proxy gives its port up and binds it again when enabled; outgoing connections take
    their local ports from the ephemeral range, so one of them cannot be holding it by then.
    """
    low, _ = _ephemeral_range()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, max(20001, min(low, 32768)))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ToxiproxyError("no free port below the ephemeral range on 127.0.0.1")


class ProxyLink:
    """One proxy: ``url`` goes through it to ``upstream``; faults are switched through the API."""

    def __init__(self, server: Toxiproxy, name: str, listen: str, upstream: str) -> None:
        self.server = server
        self.name = name
        self.listen = listen
        self.upstream = upstream

    @property
    def url(self) -> str:
        """``http://`` base URL of the proxy, for the sink's URL setting."""
        return f"http://{self.listen}"

    def disable(self) -> None:
        """Close the listener and every open connection: the server is unreachable."""
        self.server.api("PATCH", f"/proxies/{self.name}", {"enabled": False})

    def enable(self) -> None:
        """Listen again on the same address."""
        self.server.api("PATCH", f"/proxies/{self.name}", {"enabled": True})

    def add_toxic(self, kind: str, stream: str = "downstream", toxicity: float = 1.0, **attributes: int) -> str:
        """Add a toxic of ``kind`` on ``stream`` (``upstream``: towards the server); returns its name."""
        name = f"{kind}_{stream}"
        self.server.api("POST", f"/proxies/{self.name}/toxics", {
            "name": name, "type": kind, "stream": stream, "toxicity": toxicity, "attributes": attributes,
        })
        return name

    def remove_toxic(self, name: str) -> None:
        """Remove one toxic; connections it held up flow again."""
        self.server.api("DELETE", f"/proxies/{self.name}/toxics/{name}")

    def toxics(self) -> list[dict[str, Any]]:
        """The toxics now in place."""
        answer = self.server.api("GET", f"/proxies/{self.name}/toxics")
        return answer if isinstance(answer, list) else []

    @contextlib.contextmanager
    def toxic(self, kind: str, stream: str = "downstream", toxicity: float = 1.0, **attributes: int) -> Iterator[str]:
        """A toxic for the duration of the ``with`` block."""
        name = self.add_toxic(kind, stream, toxicity, **attributes)
        try:
            yield name
        finally:
            self.remove_toxic(name)

    @contextlib.contextmanager
    def toxic_for(self, seconds: float, kind: str, stream: str = "downstream", **attributes: int) -> Iterator[str]:
        """A toxic that removes itself ``seconds`` after the block starts (and at its end at the latest)."""
        name = self.add_toxic(kind, stream, **attributes)
        removed = threading.Event()

        def remove() -> None:
            if not removed.is_set():
                removed.set()
                self.remove_toxic(name)

        timer = threading.Timer(seconds, remove)
        timer.start()
        try:
            yield name
        finally:
            timer.cancel()
            timer.join()
            remove()

    def delete(self) -> None:
        """Remove the proxy and close its connections."""
        self.server.api("DELETE", f"/proxies/{self.name}")


class Toxiproxy:
    """A running Toxiproxy server whose API listens on 127.0.0.1; proxies are made with ``proxy``."""

    def __init__(self) -> None:
        self.api_port = 0
        self.workdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._names = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "toxiproxy.log"

    def __enter__(self) -> Toxiproxy:
        binary = ensure_built()
        self.workdir = Path(tempfile.mkdtemp(prefix="toxiproxy-"))
        env = {**os.environ, "LOG_LEVEL": "info"}
        last_error = ""
        for _ in range(3):  # a free port can be taken between probe and bind
            self.api_port = listen_port()
            with open(self.log_path, "wb") as log:
                self._proc = subprocess.Popen(
                    [str(binary), "-host", "127.0.0.1", "-port", str(self.api_port), "-seed", str(SEED)],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.workdir, env=env,
                )
            try:
                self._wait_ready()
                return self
            except ToxiproxyError as exc:
                last_error = str(exc)
                self._terminate()
                if "address already in use" not in last_error:
                    break
        shutil.rmtree(self.workdir, ignore_errors=True)
        raise ToxiproxyError(last_error)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._terminate()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ToxiproxyError(f"Toxiproxy exited with {self._proc.returncode} at start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.api_url}/version", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise ToxiproxyError(f"Toxiproxy did not answer within {START_TIMEOUT_S:.0f}s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        """The end of the server's log, for error messages."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        stop_process(proc)

    def api(self, method: str, path: str, body: object | None = None) -> Any:
        """One call to the HTTP API; an answer other than 2xx raises ``ToxiproxyError``."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.api_url}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise ToxiproxyError(f"Toxiproxy {method} {path}: HTTP {exc.code} {exc.read()[:500]!r}") from None
        return json.loads(raw) if raw.strip() else None

    def proxy(self, upstream_url: str, name: str | None = None) -> ProxyLink:
        """A new proxy on 127.0.0.1 in front of ``upstream_url`` (``http://127.0.0.1:PORT``)."""
        host_port = upstream_url.split("://", 1)[-1].rstrip("/")
        if not host_port.startswith("127.0.0.1:"):
            raise ToxiproxyError(f"proxies stay on 127.0.0.1; refusing upstream {upstream_url!r}")
        self._names += 1
        name = name or f"proxy{self._names}"
        last = ""
        for _ in range(5):
            try:
                created = self.api("POST", "/proxies", {
                    "name": name, "listen": f"127.0.0.1:{listen_port()}", "upstream": host_port, "enabled": True,
                })
            except ToxiproxyError as exc:  # the port was taken between probe and listen
                last = str(exc)
                continue
            return ProxyLink(self, name, str(created["listen"]), host_port)
        raise ToxiproxyError(last)


__all__ = ["ProxyLink", "Toxiproxy", "ToxiproxyError", "cache_root", "ensure_built", "listen_port"]
