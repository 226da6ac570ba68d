"""pySigma is an optional extra: without it (`pip install .`, the README's first command) every
command but Sigma conversion works, and `content sigma` says what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
sys.modules["sigma"] = None  # as if pySigma were not installed
from connector.cli import main
print("demo", main(["demo", "--out", sys.argv[1]]))
print("content", main(["content", "sigma"]))
"""


def test_the_demo_runs_and_content_sigma_names_the_extra(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=300, check=False)
    assert "demo 0" in done.stdout and "content 2" in done.stdout, done.stderr[-2000:]
    assert "Sigma conversion needs pySigma: pip install 'aws-siem-connector[sigma]'" in done.stderr
    assert "Traceback" not in done.stderr
