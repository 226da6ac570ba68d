"""How many rules of a public Sigma rule set convert, per backend, and why the others do not.

    python -m tests.detections.sigmahq_coverage PATH_TO/sigma/rules/cloud/aws/cloudtrail

The rule set is not shipped with this repository; point it at a checkout of SigmaHQ's rules.
"""

from __future__ import annotations

import sys
from pathlib import Path

from connector.detections import BACKENDS, convert


def coverage(folder: Path) -> list[str]:
    """One summary line per backend, then one line per refused rule."""
    lines = []
    for backend in BACKENDS:
        conversion = convert(backend, [folder])
        total = len(conversion.detections) + len(conversion.refused)
        lines.append(f"{backend}: {len(conversion.detections)} of {total} converted, {len(conversion.refused)} refused")
        lines += [f"  {Path(r.path).name}: {r.reason}" for r in conversion.refused]
    return lines


if __name__ == "__main__":
    for line in coverage(Path(sys.argv[1])):
        print(line)
