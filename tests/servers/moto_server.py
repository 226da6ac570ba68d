"""moto in server mode: a real HTTP endpoint for S3, SQS, SNS, CloudWatch Logs, Config and STS
that boto3 reaches over the network, started on 127.0.0.1 and stopped by its own PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


class MotoStartError(RuntimeError):
    """moto could not be started; the message carries its output."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class MotoServer:
    """A running moto server; ``env`` is what a connector process needs to talk to it."""

    url: str
    pid: int

    @property
    def env(self) -> dict[str, str]:
        """Environment for boto3 (and so for the connector) to use this server."""
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.url, "AWS_DEFAULT_REGION": REGION}

    def client(self, service: str):  # type: ignore[no-untyped-def]
        """A boto3 client bound to this server."""
        import boto3

        return boto3.client(service, endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            aws_session_token="testing")

    def reset(self) -> None:
        """Forget every resource (between tests)."""
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=10)


@contextmanager
def moto_server(log_dir: Path) -> Iterator[MotoServer]:
    """Start ``moto_server`` on a free 127.0.0.1 port; fail loudly with its log if it does not answer."""
    port = _free_port()
    log_path = log_dir / "moto.log"
    exe = Path(sys.executable).with_name("moto_server")
    command = [str(exe), "-H", "127.0.0.1", "-p", str(port)] if exe.exists() else \
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **CREDENTIALS},
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise MotoStartError(f"moto_server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise MotoStartError(
                        f"moto_server did not answer on {url}:\n{log_path.read_text()[-3000:]}") from None
                time.sleep(0.2)
        yield MotoServer(url, proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
