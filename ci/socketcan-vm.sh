#!/usr/bin/env bash
# Runs the SocketCAN integration tests (harness/replay/tests/vm_socketcan.rs) against a real Linux
# kernel: Debian 12's stock kernel booted in a throw-away QEMU VM, with can/can-raw/can-dev/vcan.
# In the same boot, the bench slice over SocketCAN (harness/tests/vm_bench_socketcan.rs): mosquitto,
# `ovms-emu --can-socketcan vcan0` as a separate process (rigs/bench-emu-socketcan.yaml) and the
# harness's bench runner feeding it through vcan0; cadence, heartbeat and will on the wall clock.
# Then `ovms-hil record --can vcan0 --replay <Roadster slice>` against the same rig
# (harness/tests/vm_record_socketcan.rs): the frames heard on vcan0 and the module's capture on
# one time base, a whole slice and one stopped by SIGINT.
#
#   ci/socketcan-vm.sh            build, boot, test; exit 0 only if the tests passed
#
# Needs Debian/Ubuntu with apt (missing packages are installed: qemu-system-x86, busybox-static, xz-utils,
# kmod, cpio, mosquitto), root (for apt-get) and cargo. The kernel .deb is downloaded and unpacked, not
# installed. Everything is cached under build/vm/ (gitignored); the replay test binary and ovms-emu
# (feature socketcan) are built statically, without debug info, into build/vm-target/. The bench
# and record tests and the ovms-hil binary are the ones `cargo test --workspace` builds (target/ or
# $CARGO_TARGET_DIR, so CI reuses them), copied stripped with the libraries ldd lists, like the
# host's mosquitto. Environment knobs:
#   OVMS_HIL_VM_TIMEOUT   seconds before a hung VM is killed (default 240)
#   OVMS_HIL_VM_ACCEL     force "tcg" or "kvm" (default: kvm only when kvm_intel/kvm_amd is loaded)
#   OVMS_HIL_VM_EXTRA     extra shell command lines to run in the guest after the tests (ci/bench-replay.sh)
#   OVMS_HIL_VM_BINS      extra files (space-separated paths; static binaries, scripts) for /tests
#   OVMS_HIL_VM_TOOLS     host programs (e.g. canplayer) copied into /bin with the libraries ldd lists
#   OVMS_HIL_VM_SMP       guest vCPUs (default 1)
# Exit codes: 0 pass; 1 fail (console tail printed); 2 setup error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VMDIR=$ROOT/build/vm
TARGET_DIR=$ROOT/build/vm-target
TRIPLE=x86_64-unknown-linux-gnu
TIMEOUT=${OVMS_HIL_VM_TIMEOUT:-240}
RIG=$ROOT/rigs/bench-emu-socketcan.yaml
LOG=$ROOT/scenarios/logs/tesla-model-s_savvycan-example.candump.log
# The record test replays the first 10 s of a Roadster charge (the CSV's header and 145 frames).
ROADSTER=$ROOT/scenarios/logs/tesla-roadster_20120218.charge-topoff.csv
ROADSTER_LINES=152
CAN_MODULES="can can-raw can-dev vcan"

say() { printf '[socketcan-vm] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 2; }
START=$(date +%s)

# --- 1. host packages (idempotent) --------------------------------------------------------------
need=()
for pkg in qemu-system-x86 busybox-static kmod cpio xz-utils mosquitto; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    say "installing ${need[*]}"
    $SUDO apt-get update -qq >/dev/null || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
        || die "apt-get install ${need[*]} failed"
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found"
[ -x /bin/busybox ] || die "/bin/busybox (busybox-static) not found"
[ -x /usr/sbin/mosquitto ] || die "/usr/sbin/mosquitto (mosquitto) not found"

# --- 2. kernel: download + unpack + depmod + PVH vmlinux (cached) ---------------------------------
mkdir -p "$VMDIR"
if [ ! -f "$VMDIR/kernel.done" ]; then
    KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    [ -n "$KPKG" ] || { apt-get update -qq >/dev/null || true;
        KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'); }
    [ -n "$KPKG" ] || die "cannot resolve linux-image-amd64 to a kernel package"
    KVER=${KPKG#linux-image-}
    say "downloading $KPKG"
    rm -rf "$VMDIR/kernel"
    mkdir -p "$VMDIR/dl" "$VMDIR/kernel"
    ls "$VMDIR"/dl/"$KPKG"_*.deb >/dev/null 2>&1 \
        || (cd "$VMDIR/dl" && apt-get download "$KPKG" >/dev/null 2>&1) || die "apt-get download $KPKG failed"
    dpkg -x "$VMDIR"/dl/"$KPKG"_*.deb "$VMDIR/kernel"
    depmod -b "$VMDIR/kernel" "$KVER"
    # Boot the uncompressed vmlinux through its PVH note: twice as fast as the bzImage under TCG.
    VMLINUZ=$VMDIR/kernel/boot/vmlinuz-$KVER
    OFF=$( (LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$VMLINUZ" || true) | head -1 | cut -d: -f1)
    [ -n "$OFF" ] || die "no xz payload in $VMLINUZ"
    tail -c +$((OFF + 1)) "$VMLINUZ" | xz -dc --single-stream > "$VMDIR/vmlinux" 2>/dev/null || true
    [ "$(head -c 4 "$VMDIR/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || die "vmlinux extraction failed"
    echo "$KVER" > "$VMDIR/kernel.done"
fi
KVER=$(cat "$VMDIR/kernel.done")
MODDIR=$VMDIR/kernel/lib/modules/$KVER

# --- 3. test binaries and ovms-emu ---------------------------------------------------------------
say "building the VM binaries (static: vm_socketcan, ovms-emu --features socketcan; host: vm_bench_socketcan, vm_record_socketcan, ovms-hil)"
BUILD_LOG=$VMDIR/cargo-build.log
vm_cargo() { # vm_cargo static|host ARGS...: cargo ARGS, the JSON messages appended to $BUILD_LOG.json
    local how=$1; shift
    ( cd "$ROOT" && if [ "$how" = static ]; then
          export RUSTFLAGS="-C target-feature=+crt-static" CARGO_PROFILE_DEV_DEBUG=0 CARGO_TARGET_DIR=$TARGET_DIR
          set -- "$@" --target $TRIPLE
      else export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}; fi
      cargo "$@" --message-format=json-render-diagnostics >>"$BUILD_LOG.json" 2>>"$BUILD_LOG" ) \
        || { tail -30 "$BUILD_LOG" >&2; die "cargo $* ($how, for the VM) failed"; }
}
: >"$BUILD_LOG.json"; : >"$BUILD_LOG"
vm_cargo static test -p ovms-replay --features vm-tests --test vm_socketcan --no-run
vm_cargo static build -p ovms-emu --features socketcan --bin ovms-emu
# Exactly the README's `cargo test --workspace` (with --no-run): the same units and features, so
# in CI, which ran it before, nothing is rebuilt (a narrower --test would re-resolve features).
vm_cargo host test --workspace --no-run
built() { grep -o "\"executable\":\"[^\"]*/$1[^\"]*\"" "$BUILD_LOG.json" | tail -1 | cut -d'"' -f4; }
TEST_BIN=$(built vm_socketcan-)
BENCH_BIN=$(built vm_bench_socketcan-)
RECORD_BIN=$(built vm_record_socketcan-)
HIL_BIN=$(built debug/ovms-hil)
EMU_BIN=$(built "$TRIPLE/debug/ovms-emu")
for b in "$TEST_BIN" "$BENCH_BIN" "$RECORD_BIN" "$HIL_BIN" "$EMU_BIN"; do
    [ -n "$b" ] && [ -x "$b" ] || die "a VM binary was not found in cargo's output ($BUILD_LOG.json)"
done
for b in "$TEST_BIN" "$EMU_BIN"; do
    file "$b" 2>/dev/null | grep -q "dynamically linked" && die "$b is not static"
done

# --- 4. initramfs -------------------------------------------------------------------------------
STAGE=$VMDIR/initramfs
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,dev,etc,proc,sys,tmp,tests,data,lib/modules}
cp /bin/busybox "$STAGE/bin/busybox"
cp "$ROOT/ci/vm/init.sh" "$STAGE/init"
chmod +x "$STAGE/init"
# Modules in dependency order, from modules.dep (names anchored at "/<name>.ko").
order=()
add_module() {
    local name=${1//_/-} line path dep
    line=$(grep -E "(^|/)(${name}|${name//-/_})\.ko(\.[a-z]+)?:" "$MODDIR/modules.dep" | head -1) \
        || die "module $1 not in modules.dep"
    path=${line%%:*}
    for dep in ${line#*:}; do
        dep=$(basename "$dep"); add_module "${dep%%.ko*}"
    done
    for p in "${order[@]:-}"; do [ "$p" = "$path" ] && return 0; done
    order+=("$path")
}
for m in $CAN_MODULES; do add_module "$m"; done
: > "$STAGE/lib/modules/load-order"
for p in "${order[@]}"; do
    case $p in *.ko) ;; *) die "compressed module $p (expected plain .ko)";; esac
    cp "$MODDIR/$p" "$STAGE/lib/modules/"
    basename "$p" >> "$STAGE/lib/modules/load-order"
done
cp "$TEST_BIN" "$STAGE/tests/vm_socketcan"
strip --strip-debug -o "$STAGE/tests/vm_bench_socketcan" "$BENCH_BIN" 2>/dev/null \
    || cp "$BENCH_BIN" "$STAGE/tests/vm_bench_socketcan"
strip --strip-debug -o "$STAGE/tests/vm_record_socketcan" "$RECORD_BIN" 2>/dev/null \
    || cp "$RECORD_BIN" "$STAGE/tests/vm_record_socketcan"
# The recorder runs as a subprocess of vm_record_socketcan (OVMS_HIL_BIN); no symbols (-20 MB).
strip --strip-all -o "$STAGE/tests/ovms-hil" "$HIL_BIN" 2>/dev/null || cp "$HIL_BIN" "$STAGE/tests/ovms-hil"
cp "$EMU_BIN" "$STAGE/tests/ovms-emu"
cp "$LOG" "$RIG" "$STAGE/data/"
SLICE=/data/$(basename "$ROADSTER" .csv).first10s.csv
head -n "$ROADSTER_LINES" "$ROADSTER" > "$STAGE$SLICE"
# mosquitto runs as root (`user root`, which it looks up in /etc/passwd).
echo "root:x:0:0:root:/tmp:/bin/sh" > "$STAGE/etc/passwd"
echo "root:x:0:" > "$STAGE/etc/group"
{
    echo "vm_socketcan --test-threads=1 --show-output"
    echo "OVMS_EMU=/tests/ovms-emu OVMS_HIL_VM_RIG=/data/$(basename "$RIG") vm_bench_socketcan --ignored --show-output"
    echo "OVMS_EMU=/tests/ovms-emu OVMS_HIL_VM_RIG=/data/$(basename "$RIG") OVMS_HIL_BIN=/tests/ovms-hil" \
        "OVMS_HIL_VM_RECORD_LOG=$SLICE vm_record_socketcan --ignored --test-threads=1 --show-output"
} > "$STAGE/tests/run-list"
for b in ${OVMS_HIL_VM_BINS:-}; do cp "$b" "$STAGE/tests/"; done
if [ -n "${OVMS_HIL_VM_EXTRA:-}" ]; then printf "%s\n" "$OVMS_HIL_VM_EXTRA" >> "$STAGE/tests/run-list"; fi
copy_libs() { # the shared libraries (and loader) ldd lists for $1, at their paths
    for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*'); do
        mkdir -p "$STAGE$(dirname "$lib")"; cp -L "$lib" "$STAGE$lib"
    done
}
for b in "$BENCH_BIN" "$RECORD_BIN" "$HIL_BIN"; do copy_libs "$b"; done
for t in /usr/sbin/mosquitto ${OVMS_HIL_VM_TOOLS:-}; do
    tp=$(command -v "$t") || die "tool $t not found on the host"
    cp "$tp" "$STAGE/bin/"
    copy_libs "$tp"
done
(cd "$STAGE" && find . -print0 | busybox cpio --null -o -H newc 2>/dev/null | gzip -1 > "$VMDIR/initramfs.cpio.gz")

# --- 5. boot ------------------------------------------------------------------------------------
ACCEL=${OVMS_HIL_VM_ACCEL:-}
if [ -z "$ACCEL" ]; then
    ACCEL=tcg
    if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then ACCEL=kvm; fi
fi
CONSOLE=$VMDIR/console.log
run_qemu() {
    set +e
    timeout --foreground -k 5 "$2" qemu-system-x86_64 -accel "$1" -m 512 -smp "${OVMS_HIL_VM_SMP:-1}" -nographic -no-reboot \
        -kernel "$VMDIR/vmlinux" -initrd "$VMDIR/initramfs.cpio.gz" \
        -append "console=ttyS0 quiet panic=-1" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -nic none </dev/null >"$CONSOLE" 2>&1
    RC=$?
    set -e
}
say "booting $KVER under $ACCEL (timeout ${TIMEOUT}s)"
VM_START=$(date +%s)
run_qemu "$ACCEL" "$TIMEOUT"
if [ "$ACCEL" = kvm ] && [ "$RC" != 1 ] && ! tr -d '\r' <"$CONSOLE" | grep -q '^VMTEST-RESULT:'; then
    say "KVM run gave no result (rc $RC); retrying under TCG"
    run_qemu tcg "$TIMEOUT"
fi
VM_END=$(date +%s)

tr -d '\r' <"$CONSOLE" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' > "$CONSOLE.txt"
if [ "$RC" = 1 ] && grep -q '^VMTEST-RESULT: PASS' "$CONSOLE.txt"; then
    grep -E '^(test |test result|replayed|VMTEST|BENCH|RECORD)' "$CONSOLE.txt" >&2 || true
    say "PASS (qemu rc 1, VM $((VM_END - VM_START)) s, total $(( $(date +%s) - START )) s)"
    exit 0
fi
case $RC in
    0) why="kernel panic or plain poweroff";; 3) why="test failure";; 124|137) why="hang (timeout)";; *) why="qemu rc $RC";;
esac
say "FAIL: $why; console tail ($CONSOLE.txt):"
tail -60 "$CONSOLE.txt" >&2
exit 1
