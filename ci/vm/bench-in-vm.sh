#!/bin/sh
# Runs inside the SocketCAN VM (copied to /tests by ci/bench-replay.sh): real-time replay onto vcan0
# by ovms-replay and by can-utils' canplayer, both measured the same way: a second socket records
# with kernel receive timestamps, and the lateness of frame i is |(t_i - t_0) - i/rate|.
set -e
RATE=${1:-4000}
SECS=${2:-10}
N=$((RATE * SECS))
replay-bench gen-candump --rate "$RATE" --seconds "$SECS" --out /tmp/syn.log
replay-bench wall --rate "$RATE" --seconds "$SECS" --sink socketcan:vcan0 --create-vcan --record
replay-bench record --iface vcan0 --frames "$N" --rate "$RATE" --player canplayer >/tmp/rec.out &
REC=$!
i=0
while ! grep -q ready /tmp/rec.out 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
canplayer -I /tmp/syn.log
wait $REC
grep BENCH /tmp/rec.out | grep -v BENCH-RECORDER
