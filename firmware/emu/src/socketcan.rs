//! SocketCAN input (`--can-socketcan [BUS=]IFACE`, cargo feature `socketcan`): every frame
//! received on a Linux CAN interface is fed to the module as if received on its bus, through the
//! same [`EmuHandle::input`] call as the CAN simulate server's frames ([`crate::simulate`]).
//!
//! The socket is `ovms-replay`'s [`AsyncSocketCanSource`](ovms_replay::socketcan) (a raw CAN FD
//! socket read without blocking the runtime). Parsing the option ([`parse_buses`]) needs neither
//! the feature nor a CAN kernel. Opening ([`open`]) fails with a message naming the option and the
//! interface: on a kernel without `AF_CAN`, with the interface missing, or in a build without the
//! feature. Error frames, CAN FD frames and remote frames are not fed (the OVMS v3 controllers are
//! classic CAN, and a decoder gets data frames only); they are counted and logged at debug level.

use std::sync::Arc;

use crate::handle::EmuHandle;

/// One `--can-socketcan` attachment: the module's bus and the interface feeding it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketCanBus {
    /// Bus, 0-based (CAN1 is 0).
    pub bus: u8,
    /// Interface name (`vcan0`, `can0`).
    pub iface: String,
}

/// Parses the `--can-socketcan` values: `IFACE` (the n-th value feeds CAN n) or `BUS=IFACE` with
/// BUS `1`-`9` or `can1`-`can9`. A bus given twice, a bad bus or a bad interface name (1-15
/// characters, no `/`, `:` or whitespace) is an error quoting the value.
pub fn parse_buses(values: &[String]) -> Result<Vec<SocketCanBus>, String> {
    let mut out: Vec<SocketCanBus> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let (bus, iface) = match v.split_once('=') {
            Some((b, iface)) => {
                let b = b.trim();
                let digits = b
                    .strip_prefix("can")
                    .or_else(|| b.strip_prefix("CAN"))
                    .unwrap_or(b);
                match digits.parse::<u8>() {
                    Ok(n @ 1..=9) => (n - 1, iface),
                    _ => {
                        return Err(format!(
                            "--can-socketcan {v:?}: bus {b:?} must be 1-9 or can1-can9"
                        ))
                    }
                }
            }
            None => match u8::try_from(i) {
                Ok(n @ 0..=8) => (n, v.as_str()),
                _ => return Err(format!("--can-socketcan {v:?}: more than 9 buses")),
            },
        };
        let bad = iface.is_empty()
            || iface.len() > 15
            || iface.contains(['/', ':'])
            || iface.contains(char::is_whitespace);
        if bad {
            return Err(format!(
                "--can-socketcan {v:?}: {iface:?} is not an interface name (1-15 characters, \
                 no `/`, `:` or spaces, e.g. vcan0)"
            ));
        }
        if let Some(other) = out.iter().find(|a| a.bus == bus) {
            return Err(format!(
                "--can-socketcan {v:?}: CAN{} is already fed by {} (the n-th plain IFACE is \
                 CAN n; use BUS=IFACE)",
                bus + 1,
                other.iface
            ));
        }
        out.push(SocketCanBus {
            bus,
            iface: iface.to_string(),
        });
    }
    Ok(out)
}

#[cfg(feature = "socketcan")]
mod imp {
    use std::sync::Arc;
    use std::time::Duration;

    use ovms_firmware::io::Input;
    use ovms_replay::socketcan::{AsyncSocketCanSource, SocketCanError};
    use ovms_replay::Frame;
    use tracing::{debug, info, warn};

    use super::SocketCanBus;
    use crate::handle::EmuHandle;

    /// An open SocketCAN interface feeding one bus.
    #[derive(Debug)]
    pub struct SocketCanInput {
        source: AsyncSocketCanSource,
        at: SocketCanBus,
    }

    /// Opens the interface of `at` (from inside a tokio runtime).
    pub fn open(at: &SocketCanBus) -> Result<SocketCanInput, String> {
        let source = AsyncSocketCanSource::open(&at.iface, at.bus)
            .map_err(|e| format!("--can-socketcan {} (CAN{}): {e}", at.iface, at.bus + 1))?;
        Ok(SocketCanInput {
            source,
            at: at.clone(),
        })
    }

    /// The module input for a received frame, or why it is not fed.
    pub fn to_input(frame: &Frame, bus: u8) -> Result<Input, &'static str> {
        if frame.error {
            Err("error frame")
        } else if frame.fd {
            Err("CAN FD frame (the module's controllers are classic CAN)")
        } else if frame.rtr {
            Err("remote frame")
        } else {
            Ok(Input::CanFrame {
                bus,
                id: frame.id,
                extended: frame.extended,
                data: frame.data.clone(),
            })
        }
    }

    /// Feeds every frame received on the interface to the module until the interface disappears
    /// or the module stops. Other read errors are logged and retried once a second.
    pub async fn feed(input: SocketCanInput, handle: Arc<EmuHandle>) {
        let SocketCanInput { source, at } = input;
        let (iface, n) = (at.iface.as_str(), at.bus + 1);
        info!("SocketCAN {iface} feeds CAN{n}");
        let (mut fed, mut skipped) = (0u64, 0u64);
        loop {
            match source.recv().await {
                Ok(frame) => {
                    match to_input(&frame, at.bus) {
                        Ok(inp) => {
                            if let Err(e) = handle.input(inp).await {
                                warn!("SocketCAN {iface}: frame not fed: {e}; stopped after {fed} frames");
                                return;
                            }
                            fed += 1;
                            if fed == 1 {
                                info!("SocketCAN {iface}: first frame fed to CAN{n}");
                            }
                        }
                        Err(why) => {
                            skipped += 1;
                            debug!(
                                "SocketCAN {iface}: {why} id {:#x} not fed ({skipped} so far)",
                                frame.id
                            );
                        }
                    }
                }
                Err(e @ SocketCanError::Unavailable { .. }) => {
                    warn!("SocketCAN {iface}: {e}; stopped after {fed} frames fed to CAN{n}");
                    return;
                }
                Err(e) => {
                    warn!("SocketCAN {iface}: {e}; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

#[cfg(not(feature = "socketcan"))]
mod imp {
    use std::sync::Arc;

    use super::SocketCanBus;
    use crate::handle::EmuHandle;

    /// An open SocketCAN interface: never built without the `socketcan` feature.
    #[derive(Debug)]
    pub struct SocketCanInput {
        never: std::convert::Infallible,
    }

    /// Always fails: this build has no SocketCAN support.
    pub fn open(at: &SocketCanBus) -> Result<SocketCanInput, String> {
        Err(format!(
            "--can-socketcan {}: this ovms-emu was built without the `socketcan` feature; \
             rebuild it with `cargo build -p ovms-emu --features socketcan`",
            at.iface
        ))
    }

    /// Unreachable: no [`SocketCanInput`] exists without the feature.
    pub async fn feed(input: SocketCanInput, _handle: Arc<EmuHandle>) {
        match input.never {}
    }
}

#[cfg(feature = "socketcan")]
pub use imp::to_input;
pub use imp::SocketCanInput;

/// Opens every attachment (from inside a tokio runtime), before the module starts: the first
/// failure is returned as a message naming `--can-socketcan`, the interface and the cause.
pub fn open(buses: &[SocketCanBus]) -> Result<Vec<SocketCanInput>, String> {
    buses.iter().map(imp::open).collect()
}

/// Feeds the frames of `input` to the module (a task per interface; see the module docs).
pub async fn feed(input: SocketCanInput, handle: Arc<EmuHandle>) {
    imp::feed(input, handle).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn plain_interfaces_feed_can1_can2_in_order_and_bus_prefixes_choose_the_bus() {
        let got = parse_buses(&strings(&["vcan0", "vcan1", "3=can0", "can4=x"])).unwrap();
        let want: Vec<(u8, &str)> = vec![(0, "vcan0"), (1, "vcan1"), (2, "can0"), (3, "x")];
        let got: Vec<(u8, &str)> = got.iter().map(|a| (a.bus, a.iface.as_str())).collect();
        assert_eq!(got, want);
        assert!(parse_buses(&[]).unwrap().is_empty());
    }

    #[test]
    fn bad_buses_and_names_and_duplicates_are_errors_quoting_the_value() {
        for (args, want) in [
            (vec!["0=vcan0"], "must be 1-9"),
            (vec!["can10=vcan0"], "must be 1-9"),
            (vec!["x=vcan0"], "must be 1-9"),
            (vec![""], "not an interface name"),
            (vec!["1="], "not an interface name"),
            (vec!["a/b"], "not an interface name"),
            (vec!["vcan 0"], "not an interface name"),
            (vec!["sixteen-chars-xx"], "not an interface name"),
            (vec!["2=vcan1", "vcan0"], "CAN2 is already fed by vcan1"),
            (vec!["vcan0", "can1=vcan1"], "CAN1 is already fed by vcan0"),
        ] {
            let e = parse_buses(&strings(&args)).unwrap_err();
            assert!(e.contains(want), "{args:?}: {e}");
            assert!(e.starts_with("--can-socketcan "), "{args:?}: {e}");
        }
        let ten: Vec<String> = (0..10).map(|i| format!("vcan{i}")).collect();
        assert!(parse_buses(&ten).unwrap_err().contains("more than 9"));
    }

    /// Without AF_CAN (most hosts) the kernel refuses the socket; with it (the QEMU VM) the
    /// interface does not exist: either way a clear error, never a panic.
    #[cfg(feature = "socketcan")]
    #[tokio::test]
    async fn opening_without_can_support_or_interface_is_a_clear_error() {
        let at = SocketCanBus {
            bus: 1,
            iface: "ovmsnocan9".into(),
        };
        let e = open(std::slice::from_ref(&at)).unwrap_err();
        assert!(e.starts_with("--can-socketcan ovmsnocan9 (CAN2): "), "{e}");
        assert!(
            e.contains("no CAN support or interface ovmsnocan9 is missing"),
            "{e}"
        );
    }

    #[cfg(not(feature = "socketcan"))]
    #[test]
    fn a_build_without_the_feature_says_so() {
        let at = SocketCanBus {
            bus: 0,
            iface: "vcan0".into(),
        };
        let e = open(&[at]).unwrap_err();
        assert!(e.contains("built without the `socketcan` feature"), "{e}");
        assert!(e.contains("--features socketcan"), "{e}");
    }

    #[cfg(feature = "socketcan")]
    #[test]
    fn data_frames_become_inputs_on_the_bus_and_others_are_refused() {
        use ovms_firmware::io::Input;
        use ovms_replay::Frame;
        let f = Frame::new(0, 5, 0x100, &[0x80, 57]);
        let Ok(Input::CanFrame {
            bus,
            id,
            extended,
            data,
        }) = to_input(&f, 2)
        else {
            panic!("not a CAN input");
        };
        assert_eq!((bus, id, extended, data), (2, 0x100, false, vec![0x80, 57]));
        let mut ext = Frame::new(0, 0, 0x18DA_F110, &[1]);
        ext.extended = true;
        assert!(matches!(
            to_input(&ext, 0),
            Ok(Input::CanFrame {
                extended: true,
                id: 0x18DA_F110,
                ..
            })
        ));
        for (set, why) in [
            ((|f: &mut Frame| f.error = true) as fn(&mut Frame), "error"),
            (|f: &mut Frame| f.fd = true, "FD"),
            (|f: &mut Frame| f.rtr = true, "remote"),
        ] {
            let mut g = f.clone();
            set(&mut g);
            assert!(to_input(&g, 0).unwrap_err().contains(why));
        }
    }
}
