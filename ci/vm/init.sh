#!/bin/busybox sh
# PID 1 of the SocketCAN test VM (packed into the initramfs by ci/socketcan-vm.sh).
# Loads the CAN modules, runs the commands listed in /tests/run-list (one shell command per line,
# with /tests on PATH; the first is the vm_socketcan test binary), prints
# "VMTEST-RESULT: PASS|FAIL" and reports the result to QEMU through isa-debug-exit (port 0xf4):
# QEMU then exits with (value << 1) | 1, i.e. 1 = pass, 3 = fail.
/bin/busybox --install -s /bin
export PATH=/bin:/tests
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp && mount -t tmpfs tmpfs /tmp

FAIL=0
for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m" || { echo "VMTEST: insmod $m failed"; FAIL=1; }
done
ip link set lo up

export OVMS_HIL_IN_VM=1 HOME=/tmp RUST_BACKTRACE=1
export OVMS_HIL_TESLA_LOG=/data/tesla-model-s_savvycan-example.candump.log
if [ "$FAIL" = 0 ]; then
    while read -r line; do
        [ -n "$line" ] || continue
        echo "VMTEST: running: $line"
        if ! sh -c "$line" </dev/null; then
            echo "VMTEST: failed: $line"
            FAIL=1
        fi
    done < /tests/run-list
fi

if [ "$FAIL" = 0 ]; then echo "VMTEST-RESULT: PASS"; else echo "VMTEST-RESULT: FAIL"; fi
printf "\\$(printf '%03o' "$FAIL")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
