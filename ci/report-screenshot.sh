#!/usr/bin/env bash
# Renders the example timeline report (real Roadster drive log → Tesla Roadster decoder → module
# on the draft profile, virtual clock, two app clients, a broker outage, and a regression run with
# a changed cadence whose misses are marked) and takes a headless Chromium screenshot of it.
#
#   ci/report-screenshot.sh [OUT_DIR]      # default OUT_DIR: ci/artifacts
#
# Writes OUT_DIR/report-example.html, its captures (*.jsonl) and OUT_DIR/report-example.png, and
# fails unless the PNG exists and is larger than 10 kB. Installs Debian's `chromium` if missing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/ci/artifacts}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$ROOT"

if ! command -v chromium >/dev/null 2>&1; then
    echo "report-screenshot: installing chromium (Debian)" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium >/dev/null
fi

echo "report-screenshot: rendering the report" >&2
HTML=$(cargo run -q -p ovms-hil-fieldbug --example report_example -- "$OUT" 2>/dev/null | tail -n 1)
[ -s "$HTML" ] || { echo "report-screenshot: no report written" >&2; exit 1; }

PNG=$OUT/report-example.png
rm -f "$PNG"
# A private profile dir keeps the run independent of any user profile; the page loads nothing
# from the network (everything is inline).
PROFILE_DIR=$(mktemp -d)
trap 'rm -rf "$PROFILE_DIR"' EXIT
timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$PROFILE_DIR" --no-first-run --disable-extensions \
    --screenshot="$PNG" --window-size=1400,900 "file://$HTML" >/dev/null 2>&1 || true

if [ ! -f "$PNG" ]; then
    echo "report-screenshot: FAIL: chromium wrote no screenshot" >&2
    exit 1
fi
SIZE=$(stat -c %s "$PNG")
if [ "$SIZE" -le 10240 ]; then
    echo "report-screenshot: FAIL: $PNG is only $SIZE bytes (blank page?)" >&2
    exit 1
fi
# The inline script ran: tooltips moved from <title> elements into data-tip attributes.
DOM=$(timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$PROFILE_DIR" \
    --no-first-run --disable-extensions --dump-dom "file://$HTML" 2>/dev/null || true)
TIPS=$(printf '%s' "$DOM" | grep -o 'data-tip=' | wc -l)
if [ "$TIPS" -lt 100 ]; then
    echo "report-screenshot: FAIL: the page script did not run ($TIPS tooltips)" >&2
    exit 1
fi
echo "report-screenshot: OK $PNG ($SIZE bytes, $TIPS tooltips live)"
