"""Test servers written in Go: compiled once from the Go module proxy into a cache, stopped by their PID."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path


def go_tool(what: str, error: type[Exception]) -> str:
    """The ``go`` command, or ``error`` saying that building ``what`` needs it."""
    found = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if found is None:
        raise error(f"the Go toolchain (go) is not on PATH; it is needed to build {what}")
    return found


def build_cached(binary: Path, module_dir: Path, package: str, env: Mapping[str, str], what: str,
                 timeout: float, error: type[Exception]) -> Path:
    """Return ``binary``, first running ``go build package`` in ``module_dir`` if it does not exist.

    The build holds a file lock beside the binary's folder, so parallel test processes build once;
    it writes to a temporary name and renames, so a killed build leaves no half-written binary.
    """
    if binary.exists():
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    with open(binary.parent.parent / f"{binary.parent.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.exists():  # another process built it while this one waited
            return binary
        partial = binary.with_name(f"{binary.name}.partial")
        cmd = [go_tool(what, error), "build", "-trimpath", "-o", str(partial), package]
        try:
            proc = subprocess.run(cmd, cwd=module_dir, env=dict(env), capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise error(f"building {what} timed out after {timeout:.0f}s") from exc
        if proc.returncode != 0:
            raise error(
                f"building {what} failed ({' '.join(cmd)} in {module_dir}):\n"
                f"{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
            )
        os.replace(partial, binary)
    return binary


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM to the server's own PID, SIGKILL if it is still there after ten seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


__all__ = ["build_cached", "go_tool", "stop_process"]
