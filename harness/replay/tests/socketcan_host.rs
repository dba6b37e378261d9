//! SocketCAN failure paths that hold on any machine, plus the clean-error check on a kernel
//! without `AF_CAN` (this CI host). The success paths run in the QEMU rig (tests/vm_socketcan.rs).
#![cfg(feature = "socketcan")]

use ovms_replay::socketcan::{
    create_vcan, probe_af_can, AsyncSocketCanSource, SocketCanError, SocketCanSink, SocketCanSource,
};

#[test]
fn missing_interface_is_a_clean_typed_error() {
    let err = SocketCanSink::open("ovmsnone0").unwrap_err();
    assert!(
        matches!(err, SocketCanError::Unavailable { ref iface, .. } if iface == "ovmsnone0"),
        "{err:?}"
    );
    assert_eq!(err.errno(), Some(19), "ENODEV");
    let msg = err.to_string();
    assert!(msg.contains("interface ovmsnone0 is missing"), "{msg}");
    assert!(msg.contains("(os error 19)"), "{msg}");
    assert!(msg.contains("ci/socketcan-vm.sh"), "{msg}");
    let err = SocketCanSource::open("ovmsnone0", 0).unwrap_err();
    assert_eq!(err.errno(), Some(19));
}

#[test]
fn kernel_without_af_can_gives_clean_errors() {
    let has_can = std::fs::read_to_string("/proc/net/protocols")
        .map(|p| p.lines().any(|l| l.starts_with("CAN")))
        .unwrap_or(false);
    let probe = probe_af_can();
    if has_can {
        // A kernel with CAN (e.g. inside the QEMU rig): the probe must succeed.
        probe.unwrap();
        return;
    }
    let err = probe.unwrap_err();
    assert_eq!(err.errno(), Some(97), "EAFNOSUPPORT: {err}");
    assert!(err.to_string().contains("no CAN support"), "{err}");

    let err = SocketCanSink::open("vcan0").unwrap_err();
    assert!(matches!(err, SocketCanError::Unavailable { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "this kernel has no CAN support or interface vcan0 is missing (No such device (os error 19)); \
         use the virtual bus or the QEMU rig ci/socketcan-vm.sh"
    );

    // Creating a vcan needs the vcan module: a typed error, not a panic or a hang.
    let err = create_vcan("ovmstest0").unwrap_err();
    assert!(matches!(err, SocketCanError::Netlink { .. }), "{err:?}");
    assert!(err.to_string().contains("ovmstest0"), "{err}");
}

#[test]
fn async_source_needs_a_runtime_and_reports_missing_interfaces() {
    let err = AsyncSocketCanSource::open("ovmsnone0", 0).unwrap_err();
    assert!(matches!(err, SocketCanError::NoRuntime { .. }), "{err:?}");
    assert!(err.to_string().contains("tokio runtime"), "{err}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    rt.block_on(async {
        let err = AsyncSocketCanSource::open("ovmsnone0", 0).unwrap_err();
        assert!(matches!(err, SocketCanError::Unavailable { .. }), "{err:?}");
        assert_eq!(err.errno(), Some(19));
    });
}
