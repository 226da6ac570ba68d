"""Running the backfill command as a subprocess against moto, and reading what it wrote."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.backfill.conftest import BUCKET
from tests.backfill.estate import PREFIX

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "connector", "backfill"]


def backfill_argv(start: str, end: str, out: Path, checkpoint: Path, *extra: str) -> list[str]:
    """The flags of a file-sink backfill over the test bucket."""
    return ["--bucket", BUCKET, "--prefix", PREFIX, "--start", start, "--end", end, "--sink", "file",
            "--out", str(out), "--checkpoint", str(checkpoint), "--geoip-city", "none", *extra]


def command_env(moto_env: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment of a connector process that talks to moto."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AWS_SIEM_CONNECTOR_"))}
    return {**env, **moto_env, "PYTHONPATH": str(ROOT), **extra}


def start_backfill(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start the command in its own session (so it and any workers can be killed together)."""
    with open(log, "ab") as handle:
        return subprocess.Popen([*COMMAND, *argv], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)


def run_backfill(argv: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the command to completion."""
    return subprocess.run([*COMMAND, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)


def read_docs(out: Path) -> list[dict[str, Any]]:
    """Every document in every NDJSON file under ``out``; a line that is not JSON fails the test."""
    docs = []
    for path in sorted(out.glob("*.ndjson")):
        for number, line in enumerate(path.read_bytes().splitlines(), 1):
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise AssertionError(f"{path.name} line {number} is not JSON: {line[:120]!r}") from exc
    return docs


def summary_values(text: str) -> dict[str, str]:
    """``label: value`` lines of the plain-text summary."""
    lines = text[text.rindex("backfill summary"):].splitlines()[1:]
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def kill_process_when(
    argv: list[str], env: dict[str, str], log: Path, ready: Callable[[], bool], timeout: float = 90
) -> int:
    """Start the command, SIGKILL it (and its workers) as soon as ``ready()``; its exit code."""
    proc = start_backfill(argv, env, log)
    deadline = time.monotonic() + timeout
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return proc.returncode
