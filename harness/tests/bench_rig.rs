//! The CI-run proof of the bench rig with no hardware: `rigs/bench-emu-process.yaml`, whose "real
//! module" is `ovms-emu` as a separate process on the WALL clock, started and frozen by the rig's
//! own power commands, with CAN1 through the emu's simulate server, driven through
//! `ovms_hil::rig::bench::BenchModule` against a real mosquitto: the cadence, heartbeat and will
//! slice of [`bench_slice::run_slice`] (`tests/vm_bench_socketcan.rs` runs the same slice with
//! CAN over SocketCAN inside the QEMU VM).

mod bench_slice;

use std::path::Path;

use bench_slice::{adapt_rig, emu_binary, free_port, run_slice, KillPid};
use ovms_hil_bench::rig::BusLink;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ovms_emu_as_a_bench_module_passes_cadence_heartbeat_and_will_on_the_wall_clock() {
    let emu = emu_binary();
    let dir = tempfile::tempdir().unwrap();
    let pid = dir.path().join("emu.pid");
    let log = dir.path().join("emu.log");
    let _cleanup = KillPid(pid.clone());

    // The CI rig as shipped, with this test's ports, scratch files, binary and a 2 s keepalive
    // (so the will comes within seconds).
    let rig_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rigs/bench-emu-process.yaml");
    let (tap_port, sim_port) = (free_port(), free_port());
    let mut rig = adapt_rig(
        &rig_file,
        &[
            ("/tmp/ovms-hil-bench-emu.pid", pid.display().to_string()),
            ("/tmp/ovms-hil-bench-emu.log", log.display().to_string()),
            ("\"${OVMS_EMU:-ovms-emu}\"", emu.display().to_string()),
            ("127.0.0.1:18830", format!("127.0.0.1:{tap_port}")),
            ("127.0.0.1:13000", format!("127.0.0.1:{sim_port}")),
            ("--keepalive 10", "--keepalive 2".into()),
        ],
        tap_port,
    );
    for c in &mut rig.can {
        if let BusLink::Simulate(a) = &mut c.link {
            *a = format!("127.0.0.1:{sim_port}");
        }
    }
    let r = run_slice(rig, &log).await;
    eprintln!(
        "v.b.soc intervals {:?}, heartbeat {:?}, will {:?} after the cut, slice {:?}",
        r.cadence, r.heartbeat, r.will, r.wall
    );
}
