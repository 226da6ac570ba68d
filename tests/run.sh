#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the package and its test tools into .venv,
# lints, type-checks, then runs pytest. The fixtures build and start the real servers
# (HEC receiver from the Go module proxy, Elasticsearch and OpenSearch from Maven Central,
# moto) and cache the heavy downloads under ~/.cache/aws-siem-connector.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"

echo "== ruff"
.venv/bin/ruff check connector tests bench
echo "== mypy --strict connector"
.venv/bin/mypy connector
echo "== pytest"
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
