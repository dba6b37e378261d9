//! SocketCAN (Linux): a sink that writes frames to an interface, a source that records frames
//! with kernel timestamps, and vcan creation over netlink.
//!
//! On a kernel without CAN support (no `AF_CAN`) or with the interface missing, every opener
//! returns [`SocketCanError::Unavailable`] naming the interface and the OS error, and pointing at
//! the alternatives (the in-process virtual bus, or the QEMU rig `ci/socketcan-vm.sh`).

use std::io;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ovms_canlog::{Direction, Frame};
use socketcan::frame::{can_frame_default, canfd_frame_default};
use socketcan::{
    CanAnyFrame, CanFdFrame, CanFdSocket, CanFrame, CanInterface, Socket, SocketOptions,
};

use crate::schedule::ScheduledFrame;
use crate::sink::{FrameSink, SinkError};

/// A SocketCAN failure.
#[derive(Debug, thiserror::Error)]
pub enum SocketCanError {
    /// The kernel has no CAN support (`EAFNOSUPPORT`) or the interface does not exist (`ENODEV`).
    #[error("this kernel has no CAN support or interface {iface} is missing ({source}); use the virtual bus or the QEMU rig ci/socketcan-vm.sh")]
    Unavailable {
        /// Interface name.
        iface: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Another OS error during `op`.
    #[error("SocketCAN {op} on {iface} failed: {source}")]
    Io {
        /// Interface name.
        iface: String,
        /// What was being done (open, write, read, setsockopt …).
        op: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Creating or bringing up an interface over netlink failed.
    #[error("cannot create or bring up CAN interface {iface}: {message} (needs root and the vcan module; or use the QEMU rig ci/socketcan-vm.sh)")]
    Netlink {
        /// Interface name.
        iface: String,
        /// The netlink layer's message.
        message: String,
    },
    /// An async socket was opened outside a tokio runtime.
    #[error(
        "opening async SocketCAN interface {iface} needs a tokio runtime (call it from inside one)"
    )]
    NoRuntime {
        /// Interface name.
        iface: String,
    },
    /// The frame cannot be put on a CAN bus as it is.
    #[error("frame id {id:#x} cannot be sent on CAN: {reason}")]
    InvalidFrame {
        /// The frame's identifier.
        id: u32,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl SocketCanError {
    /// The OS errno behind the error, if any (19 = ENODEV, 97 = EAFNOSUPPORT, …).
    pub fn errno(&self) -> Option<i32> {
        match self {
            SocketCanError::Unavailable { source, .. } | SocketCanError::Io { source, .. } => {
                source.raw_os_error()
            }
            _ => None,
        }
    }

    fn from_io(iface: &str, op: &'static str, source: io::Error) -> Self {
        let unavailable = matches!(
            source.raw_os_error(),
            Some(libc::ENODEV | libc::EAFNOSUPPORT | libc::ENXIO | libc::EPROTONOSUPPORT)
        );
        if unavailable {
            SocketCanError::Unavailable {
                iface: iface.to_string(),
                source,
            }
        } else {
            SocketCanError::Io {
                iface: iface.to_string(),
                op,
                source,
            }
        }
    }
}

/// Checks that the kernel has `AF_CAN` (binds a raw CAN socket to "all interfaces").
pub fn probe_af_can() -> Result<(), SocketCanError> {
    socketcan::CanSocket::open_iface(0)
        .map(drop)
        .map_err(|e| SocketCanError::from_io("(any)", "open", e))
}

/// Creates the vcan interface `name` if it does not exist, and brings it up (root only).
pub fn create_vcan(name: &str) -> Result<(), SocketCanError> {
    let nl = |e: socketcan::Error| SocketCanError::Netlink {
        iface: name.to_string(),
        message: e.to_string(),
    };
    let iface = match CanInterface::open(name) {
        Ok(iface) => iface,
        Err(_) => CanInterface::create_vcan(name, None).map_err(nl)?,
    };
    iface.bring_up().map_err(nl)
}

fn open_fd_socket(iface: &str) -> Result<CanFdSocket, SocketCanError> {
    CanFdSocket::open(iface).map_err(|e| SocketCanError::from_io(iface, "open", e))
}

/// Converts a frame to what SocketCAN sends. Error frames are refused; FD data is zero-padded to
/// the next valid FD length; RTR frames use `data.len()` as DLC.
pub fn to_socketcan(frame: &Frame) -> Result<CanAnyFrame, SocketCanError> {
    let invalid = |reason| SocketCanError::InvalidFrame {
        id: frame.id,
        reason,
    };
    if frame.error {
        return Err(invalid("error frames are not sent"));
    }
    let mut can_id = if frame.extended {
        if frame.id > libc::CAN_EFF_MASK {
            return Err(invalid("extended id above 29 bits"));
        }
        frame.id | libc::CAN_EFF_FLAG
    } else {
        if frame.id > libc::CAN_SFF_MASK {
            return Err(invalid("standard id above 11 bits"));
        }
        frame.id
    };
    if frame.fd {
        if frame.rtr {
            return Err(invalid("CAN FD has no remote frames"));
        }
        if frame.data.len() > 64 {
            return Err(invalid("more than 64 data bytes"));
        }
        let mut raw = canfd_frame_default();
        raw.can_id = can_id;
        raw.len = frame.data.len() as u8;
        raw.data[..frame.data.len()].copy_from_slice(&frame.data);
        return Ok(CanFdFrame::from(raw).into());
    }
    if frame.data.len() > 8 {
        return Err(invalid("more than 8 data bytes in a classic frame"));
    }
    let mut raw = can_frame_default();
    if frame.rtr {
        can_id |= libc::CAN_RTR_FLAG;
    } else {
        raw.data[..frame.data.len()].copy_from_slice(&frame.data);
    }
    raw.can_id = can_id;
    raw.can_dlc = frame.data.len() as u8;
    Ok(CanFrame::from(raw).into())
}

/// Converts a received SocketCAN frame (received on `bus`, at `ts_ns` since the epoch).
pub fn from_socketcan(any: &CanAnyFrame, bus: u8, ts_ns: i64) -> Frame {
    let (can_id, data, fd): (u32, &[u8], bool) = match any {
        CanAnyFrame::Normal(f) => {
            let raw: &libc::can_frame = f.as_ref();
            (
                raw.can_id,
                &raw.data[..usize::from(raw.can_dlc.min(8))],
                false,
            )
        }
        CanAnyFrame::Remote(f) => {
            let raw: &libc::can_frame = f.as_ref();
            (raw.can_id, &[][..], false)
        }
        CanAnyFrame::Error(f) => {
            let raw: &libc::can_frame = f.as_ref();
            (raw.can_id, &raw.data[..], false)
        }
        CanAnyFrame::Fd(f) => {
            let raw: &libc::canfd_frame = f.as_ref();
            (raw.can_id, &raw.data[..usize::from(raw.len.min(64))], true)
        }
    };
    let extended = can_id & libc::CAN_EFF_FLAG != 0;
    let error = can_id & libc::CAN_ERR_FLAG != 0;
    let id = if error {
        can_id & libc::CAN_ERR_MASK
    } else if extended {
        can_id & libc::CAN_EFF_MASK
    } else {
        can_id & libc::CAN_SFF_MASK
    };
    Frame {
        ts_ns,
        bus,
        id,
        extended,
        rtr: can_id & libc::CAN_RTR_FLAG != 0,
        error,
        fd,
        dir: Direction::Rx,
        data: data.to_vec(),
    }
}

/// Writes frames to a SocketCAN interface (classic and FD, one raw FD-enabled socket).
#[derive(Debug)]
pub struct SocketCanSink {
    sock: CanFdSocket,
    iface: String,
    skipped_error_frames: u64,
    enobufs_retries: u64,
    enobufs_budget: Duration,
}

impl SocketCanSink {
    /// Opens `iface` (e.g. `vcan0`, `can0`).
    pub fn open(iface: &str) -> Result<Self, SocketCanError> {
        Ok(SocketCanSink {
            sock: open_fd_socket(iface)?,
            iface: iface.to_string(),
            skipped_error_frames: 0,
            enobufs_retries: 0,
            enobufs_budget: Duration::from_secs(1),
        })
    }

    /// The interface name.
    pub fn iface(&self) -> &str {
        &self.iface
    }

    /// Error frames in the log are not sent; this counts them.
    pub fn skipped_error_frames(&self) -> u64 {
        self.skipped_error_frames
    }

    /// Writes that had to be retried because the interface queue was full (`ENOBUFS`).
    pub fn enobufs_retries(&self) -> u64 {
        self.enobufs_retries
    }

    /// Sends one frame now. A full transmit queue (`ENOBUFS`) is retried for up to one second.
    pub fn send_frame(&mut self, frame: &Frame) -> Result<(), SocketCanError> {
        let any = to_socketcan(frame)?;
        let started = Instant::now();
        loop {
            match self.sock.write_frame(&any) {
                Ok(()) => return Ok(()),
                Err(e)
                    if e.raw_os_error() == Some(libc::ENOBUFS)
                        && started.elapsed() < self.enobufs_budget =>
                {
                    self.enobufs_retries += 1;
                    std::thread::sleep(Duration::from_micros(100));
                }
                Err(e) => return Err(SocketCanError::from_io(&self.iface, "write", e)),
            }
        }
    }
}

impl FrameSink for SocketCanSink {
    fn send(&mut self, sf: &ScheduledFrame) -> Result<(), SinkError> {
        if sf.frame.error {
            self.skipped_error_frames += 1;
            return Ok(());
        }
        Ok(self.send_frame(&sf.frame)?)
    }
}

/// Records frames from a SocketCAN interface, stamped with the kernel's receive time
/// (`SO_TIMESTAMPNS`, nanoseconds since the Unix epoch). As an iterator it ends after the idle
/// timeout (if one is set) passes without a frame.
#[derive(Debug)]
pub struct SocketCanSource {
    sock: CanFdSocket,
    iface: String,
    bus: u8,
}

impl SocketCanSource {
    /// Opens `iface`; recorded frames get bus number `bus`.
    pub fn open(iface: &str, bus: u8) -> Result<Self, SocketCanError> {
        let sock = open_fd_socket(iface)?;
        sock.set_recv_timestamp(true)
            .map_err(|e| SocketCanError::from_io(iface, "setsockopt SO_TIMESTAMPNS", e))?;
        Ok(SocketCanSource {
            sock,
            iface: iface.to_string(),
            bus,
        })
    }

    /// Ends iteration (and makes [`SocketCanSource::recv`] return `None`) after `idle` without a frame.
    pub fn set_idle_timeout(&self, idle: Option<Duration>) -> Result<(), SocketCanError> {
        self.sock
            .set_read_timeout(idle)
            .map_err(|e| SocketCanError::from_io(&self.iface, "setsockopt SO_RCVTIMEO", e))
    }

    /// Sets the kernel receive buffer (`SO_RCVBUFFORCE` when root, else `SO_RCVBUF`, which the
    /// kernel caps at `net.core.rmem_max`), so bursts are not dropped while the reader is busy.
    pub fn set_receive_buffer(&self, bytes: usize) -> Result<(), SocketCanError> {
        let val = i32::try_from(bytes).unwrap_or(i32::MAX);
        self.sock
            .set_socket_option_int(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, val)
            .or_else(|_| {
                self.sock
                    .set_socket_option_int(libc::SOL_SOCKET, libc::SO_RCVBUF, val)
            })
            .map_err(|e| SocketCanError::from_io(&self.iface, "setsockopt SO_RCVBUF", e))
    }

    /// Also receives error frames (all error classes).
    pub fn accept_error_frames(&self) -> Result<(), SocketCanError> {
        self.sock
            .set_error_filter_accept_all()
            .map_err(|e| SocketCanError::from_io(&self.iface, "setsockopt CAN_RAW_ERR_FILTER", e))
    }

    /// Receives the next frame; `Ok(None)` when the idle timeout passed.
    pub fn recv(&mut self) -> Result<Option<Frame>, SocketCanError> {
        match self.sock.read_frame_with_timestamp() {
            Ok((any, at)) => Ok(Some(from_socketcan(&any, self.bus, epoch_ns(at)))),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(SocketCanError::from_io(&self.iface, "read", e)),
        }
    }
}

impl Iterator for SocketCanSource {
    type Item = Result<Frame, SocketCanError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.recv().transpose()
    }
}

/// The async (tokio) twin of [`SocketCanSource`]: records frames with kernel receive timestamps
/// without blocking a runtime thread. Open it from inside a tokio runtime.
#[derive(Debug)]
pub struct AsyncSocketCanSource {
    sock: socketcan::tokio::CanFdSocket,
    iface: String,
    bus: u8,
}

impl AsyncSocketCanSource {
    /// Opens `iface`; recorded frames get bus number `bus`.
    pub fn open(iface: &str, bus: u8) -> Result<Self, SocketCanError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SocketCanError::NoRuntime {
                iface: iface.to_string(),
            });
        }
        let sock = socketcan::tokio::CanFdSocket::open(iface)
            .map_err(|e| SocketCanError::from_io(iface, "open", e))?;
        sock.set_recv_timestamp(true)
            .map_err(|e| SocketCanError::from_io(iface, "setsockopt SO_TIMESTAMPNS", e))?;
        Ok(AsyncSocketCanSource {
            sock,
            iface: iface.to_string(),
            bus,
        })
    }

    /// Sets the kernel receive buffer (see [`SocketCanSource::set_receive_buffer`]).
    pub fn set_receive_buffer(&self, bytes: usize) -> Result<(), SocketCanError> {
        let val = i32::try_from(bytes).unwrap_or(i32::MAX);
        self.sock
            .set_socket_option_int(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, val)
            .or_else(|_| {
                self.sock
                    .set_socket_option_int(libc::SOL_SOCKET, libc::SO_RCVBUF, val)
            })
            .map_err(|e| SocketCanError::from_io(&self.iface, "setsockopt SO_RCVBUF", e))
    }

    /// Waits for the next frame (wrap in `tokio::time::timeout` for an idle limit).
    pub async fn recv(&self) -> Result<Frame, SocketCanError> {
        let (any, at) = self
            .sock
            .read_frame_with_timestamp()
            .await
            .map_err(|e| SocketCanError::from_io(&self.iface, "read", e))?;
        Ok(from_socketcan(&any, self.bus, epoch_ns(at)))
    }
}

fn epoch_ns(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_round_trips_classic_extended_rtr_and_fd() {
        let mut frames = vec![
            Frame::new(5, 2, 0x123, &[1, 2, 3]),
            Frame::new(5, 2, 0x18DA_F110, &[0xAA; 8]),
            Frame::new(5, 2, 0x7FF, &[]),
        ];
        let mut rtr = Frame::new(5, 2, 0x321, &[]);
        rtr.rtr = true;
        frames.push(rtr);
        let mut fd = Frame::new(5, 2, 0x1234_5678, &[7; 64]);
        fd.fd = true;
        frames.push(fd);
        for f in frames {
            let back = from_socketcan(&to_socketcan(&f).unwrap(), 2, 5);
            assert_eq!(back, f);
        }
    }

    #[test]
    fn fd_data_is_padded_to_a_valid_length() {
        let mut fd = Frame::new(0, 0, 0x10, &[1; 9]);
        fd.fd = true;
        let back = from_socketcan(&to_socketcan(&fd).unwrap(), 0, 0);
        assert_eq!(back.data.len(), 12);
        assert_eq!(&back.data[..9], &[1; 9]);
        assert_eq!(&back.data[9..], &[0; 3]);
    }

    #[test]
    fn invalid_frames_are_refused_with_a_reason() {
        let mut std_too_big = Frame::new(0, 0, 0x800, &[]);
        std_too_big.extended = false;
        let long = Frame::new(0, 0, 0x100, &[0; 9]);
        let mut err = Frame::new(0, 0, 0x4, &[0; 8]);
        err.error = true;
        for f in [std_too_big, long, err] {
            let e = to_socketcan(&f).unwrap_err();
            assert!(matches!(e, SocketCanError::InvalidFrame { .. }), "{e}");
        }
    }
}
