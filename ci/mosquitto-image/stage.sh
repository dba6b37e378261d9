#!/bin/sh
# Stage the build context for ovms-hil-mosquitto:local and (optionally) build it.
#
#   ci/mosquitto-image/stage.sh [CONTEXT_DIR]          # stage only (default: a new temp dir)
#   ci/mosquitto-image/stage.sh --build [CONTEXT_DIR]  # stage, then `docker build`
#
# The image holds the host's mosquitto binary and exactly the shared libraries `ldd` lists for
# it, so it runs wherever the host's mosquitto runs; nothing is pulled from a registry.
set -eu

BUILD=0
if [ "${1:-}" = "--build" ]; then BUILD=1; shift; fi
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${MOSQUITTO_BIN:-/usr/sbin/mosquitto}
TAG=${IMAGE_TAG:-ovms-hil-mosquitto:local}
CTX=${1:-$(mktemp -d /tmp/ovms-hil-mosquitto-ctx.XXXXXX)}

[ -x "$BIN" ] || { echo "stage.sh: $BIN not found (apt-get install mosquitto)" >&2; exit 1; }

ROOT="$CTX/rootfs"
rm -rf "$ROOT"
mkdir -p "$ROOT/usr/sbin" "$ROOT/etc" "$ROOT/mosquitto/config" "$ROOT/tmp"
cp -L "$BIN" "$ROOT/usr/sbin/mosquitto"

# Every absolute path ldd prints (libraries and the dynamic loader), copied with its path.
ldd "$BIN" | grep -o '/[^ ]*' | sort -u | while read -r lib; do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
done

printf 'root:x:0:0:root:/root:/bin/sh\nmosquitto:x:100:101:mosquitto:/mosquitto:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$ROOT/etc/passwd"
printf 'root:x:0:\nmosquitto:x:101:\nnogroup:x:65534:\n' > "$ROOT/etc/group"
printf 'listener 1883\nallow_anonymous true\nuser root\nlog_dest stderr\n' > "$ROOT/mosquitto/config/mosquitto.conf"
cp "$HERE/Dockerfile" "$CTX/Dockerfile"

echo "staged $CTX ($(du -sh "$ROOT" | cut -f1))"
if [ "$BUILD" = 1 ]; then
    docker build -t "$TAG" "$CTX"
fi
