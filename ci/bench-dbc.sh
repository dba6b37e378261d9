#!/bin/sh
# DBC decode throughput: ovms-vehicles vs cantools on the Kona 2019 log (bus 0) x kona-ev_pcan.dbc,
# replicated to >= 200,000 frames, measured in the same run. Prints frames/s of both and the ratio.
set -eu
cd "$(dirname "$0")/.."
exec cargo bench -p ovms-vehicles --bench dbc_decode "$@"
