//! VM only: the bench proof of `tests/bench_rig.rs` with CAN over SocketCAN, run by
//! `ci/socketcan-vm.sh` inside its QEMU VM (`--ignored`, with `OVMS_HIL_IN_VM=1`). Host
//! `cargo test` builds it but skips it (`#[ignore]`); run anywhere else it fails, naming the VM.
//!
//! `rigs/bench-emu-socketcan.yaml` as shipped (its own power commands, with this test's tap port,
//! scratch files, binary and a 2 s keepalive): `ovms-emu --can-socketcan vcan0` as a separate
//! process on the wall clock, the harness writing CAN1 frames to vcan0 (`BenchModule::can_frame`
//! → ovms-replay's SocketCAN sink), a real mosquitto, and the cadence, heartbeat and will slice
//! with the rig's wall-clock tolerances. Needs a kernel with CAN and vcan, root (to create vcan0),
//! mosquitto, and `OVMS_EMU` pointing at an ovms-emu built with `--features socketcan`;
//! `OVMS_HIL_VM_RIG` is the rig file (default: the source tree's).

mod bench_slice;

use std::path::{Path, PathBuf};

use bench_slice::{adapt_rig, emu_binary, free_port, run_slice, KillPid};
use ovms_hil_bench::rig::BusLink;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "VM only: ci/socketcan-vm.sh runs it (needs AF_CAN, root and mosquitto)"]
async fn vm_ovms_emu_fed_through_vcan0_passes_cadence_heartbeat_and_will() {
    assert!(
        std::env::var_os("OVMS_HIL_IN_VM").is_some(),
        "VM only: run by ci/socketcan-vm.sh (needs AF_CAN, vcan0 and root); OVMS_HIL_IN_VM is unset"
    );
    ovms_replay::socketcan::create_vcan("vcan0").unwrap_or_else(|e| panic!("{e}"));
    let emu = emu_binary();
    let dir = tempfile::tempdir().unwrap();
    let pid = dir.path().join("emu.pid");
    let log = dir.path().join("emu.log");
    let _cleanup = KillPid(pid.clone());

    // The VM has no source tree: ci/socketcan-vm.sh copies the rig and names it in OVMS_HIL_VM_RIG.
    let rig_file = std::env::var_os("OVMS_HIL_VM_RIG").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../rigs/bench-emu-socketcan.yaml"),
        PathBuf::from,
    );
    let tap_port = free_port();
    let rig = adapt_rig(
        &rig_file,
        &[
            (
                "/tmp/ovms-hil-bench-emu-socketcan.pid",
                pid.display().to_string(),
            ),
            // Appended: the shutdown's `reset` starts a second emu, whose log must not replace
            // the first one's.
            (
                ">/tmp/ovms-hil-bench-emu-socketcan.log",
                format!(">>{}", log.display()),
            ),
            ("\"${OVMS_EMU:-ovms-emu}\"", emu.display().to_string()),
            ("127.0.0.1:18830", format!("127.0.0.1:{tap_port}")),
            ("--keepalive 10", "--keepalive 2".into()),
        ],
        tap_port,
    );
    assert!(
        rig.can
            .iter()
            .any(|c| c.bus == 1 && c.link == BusLink::Socketcan("vcan0".into())),
        "{:?}",
        rig.can
    );
    let tol = rig.tolerance;
    let r = run_slice(rig, &log).await;
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        log_text.contains("SocketCAN vcan0: first frame fed to CAN1"),
        "the emu read the frames from vcan0:\n{log_text}"
    );
    let secs = |d: &std::time::Duration| format!("{:.2}", d.as_secs_f64());
    println!(
        "BENCH-VM-SLICE v.b.soc intervals [{}] s (expected 3 +- {} s), heartbeat {} s (+- {} s), \
         will {} s after the cut (expected {} +- {} s), slice {} s",
        r.cadence.iter().map(secs).collect::<Vec<_>>().join(", "),
        secs(&tol.cadence),
        secs(&r.heartbeat),
        secs(&tol.response),
        secs(&r.will),
        secs(&ovms_hil_bench::tolerance::expected_will_delay(2)),
        secs(&tol.expiry),
        secs(&r.wall),
    );
}
