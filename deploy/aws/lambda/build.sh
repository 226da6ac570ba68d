#!/usr/bin/env bash
# Builds dist/aws-siem-connector-lambda.zip for the AWS Lambda Python 3.11 runtime (x86_64):
# the connector and every runtime dependency as manylinux2014 wheels, so it builds the same on
# any machine with Python 3.11+ and access to PyPI (or a PyPI mirror set in pip's config).
# Handler: connector.aws_lambda.handler
#
#   bash deploy/aws/lambda/build.sh              # everything, Parquet support included
#   WITHOUT_PARQUET=1 bash deploy/aws/lambda/build.sh   # leave out pyarrow (~120 MB unzipped)
set -euo pipefail
cd "$(dirname "$0")/../../.."

PYTHON=${PYTHON:-python3}
if [ -z "${PYTHON_SET:-}" ] && [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; fi
BUILD=build/lambda
ZIP=dist/aws-siem-connector-lambda.zip
rm -rf "$BUILD"
mkdir -p "$BUILD/wheel" "$BUILD/package" dist

# The connector is pure Python, and so is the GeoLite2 data package, which PyPI has only as a
# source archive: both become platform-independent wheels here.
"$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$BUILD/wheel" .
geolite=$(grep -o '"maxminddb-geolite2[^"]*"' pyproject.toml | tr -d '"')
if [ -n "$geolite" ]; then
  "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$BUILD/wheel" "$geolite"
fi

# Dependencies as Lambda's platform sees them; never compiled here, so the zip does not depend on
# this machine's libc or Python.
requirements=$("$PYTHON" - <<'PY'
import os, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
if os.environ.get("WITHOUT_PARQUET"):
    deps = [d for d in deps if not d.lower().startswith("pyarrow")]
print("\n".join(deps))
PY
)
printf '%s\n' "$requirements" > "$BUILD/requirements.txt"
"$PYTHON" -m pip install --quiet --disable-pip-version-check \
  --target "$BUILD/package" \
  --platform manylinux2014_x86_64 --implementation cp --python-version 3.11 --abi cp311 \
  --only-binary=:all: --find-links "$BUILD/wheel" \
  -r "$BUILD/requirements.txt"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --target "$BUILD/package" \
  "$BUILD"/wheel/aws_siem_connector-*.whl

# Lambda allows 250 MB unzipped. Parquet reading does not need Arrow Flight, nor
# C++ headers and Cython sources; console scripts and bytecode caches are of no use there either.
rm -rf "$BUILD/package/bin" "$BUILD/package/pyarrow/include" "$BUILD/package/pyarrow/tests"
rm -f "$BUILD"/package/pyarrow/*flight*
find "$BUILD/package" -name __pycache__ -type d -prune -exec rm -rf {} +
find "$BUILD/package/pyarrow" \( -name '*.pxd' -o -name '*.pyx' -o -name '*.h' -o -name '*.cc' \) -delete 2>/dev/null || true

# Where this machine can run the target's binaries, prove that the handler imports from the zip's tree.
if "$PYTHON" -c 'import sys, platform; sys.exit(not (sys.version_info[:2] == (3, 11) and platform.machine() == "x86_64" and sys.platform == "linux"))'; then
  PYTHONPATH="$BUILD/package" "$PYTHON" -I -c '
import sys; sys.path.insert(0, sys.argv[1])
import connector.aws_lambda, pyarrow.parquet, geoip2.database, maxminddb_rust, ua_parser_rs, isal.isal_zlib
print("import check: connector.aws_lambda, pyarrow.parquet and the native GeoIP, user-agent and gzip wheels load from the package")' "$BUILD/package"
fi

rm -f "$ZIP"
"$PYTHON" - "$BUILD/package" "$ZIP" <<'PY'
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
# Sorted entries: the same inputs give the same zip listing.
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            z.write(path, os.path.relpath(path, src))
PY
unzipped=$(du -sm "$BUILD/package" | cut -f1)
echo "built $ZIP ($(du -m "$ZIP" | cut -f1) MB zipped, ${unzipped} MB unzipped; Lambda allows 250 MB unzipped)"
echo "handler: connector.aws_lambda.handler"
