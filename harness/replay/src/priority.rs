//! Real-time scheduling for the wall-clock replay thread.
//!
//! The sleep-then-spin clock ([`crate::SystemWallClock`]) is precise to a microsecond while its
//! thread runs, but under the default time-sharing policy another busy process can preempt it for
//! milliseconds. [`enter_realtime`] moves the calling thread to `SCHED_FIFO` (what `chrt -f`
//! does for a whole process), and locks the process's memory so no page fault lands between two
//! frames. It needs root or `CAP_SYS_NICE` (and `CAP_IPC_LOCK`, or a big enough `RLIMIT_MEMLOCK`,
//! for the lock; a failed lock is reported but not fatal).

use std::io;

/// The `SCHED_FIFO` priority [`enter_realtime`] uses when none is given (`chrt -f 10`).
pub const DEFAULT_PRIORITY: i32 = 10;

/// What [`enter_realtime`] achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realtime {
    /// The `SCHED_FIFO` priority now in force.
    pub priority: i32,
    /// Why memory could not be locked, if it could not.
    pub memory_lock_error: Option<String>,
}

/// Moves the calling thread to `SCHED_FIFO` at `priority` (1..=99) and locks current and future
/// memory. Fails (and changes nothing) when the policy cannot be set, e.g. `EPERM` for an
/// unprivileged user; the error says how to grant it.
pub fn enter_realtime(priority: i32) -> Result<Realtime, String> {
    if !(1..=99).contains(&priority) {
        return Err(format!(
            "real-time priority {priority}: expected 1..=99 (SCHED_FIFO)"
        ));
    }
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: `param` is a valid sched_param for the duration of the call; pid 0 is the calling
    // thread; the call has no other memory effects.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
    if rc != 0 {
        let e = io::Error::last_os_error();
        return Err(format!(
            "cannot switch the replay thread to SCHED_FIFO priority {priority}: {e} (run as \
             root, or grant CAP_SYS_NICE, e.g. `setcap cap_sys_nice+ep BINARY`)"
        ));
    }
    // SAFETY: mlockall takes flags only and has no memory-safety preconditions.
    let lock = unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) };
    let memory_lock_error = (lock != 0).then(|| io::Error::last_os_error().to_string());
    Ok(Realtime {
        priority,
        memory_lock_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_priorities_are_refused_before_any_syscall() {
        assert!(enter_realtime(0).unwrap_err().contains("1..=99"));
        assert!(enter_realtime(100).unwrap_err().contains("1..=99"));
    }

    #[test]
    fn entering_realtime_either_works_or_says_why() {
        // Run on a scratch thread so the test runner's threads keep their policy.
        let r = std::thread::spawn(|| enter_realtime(DEFAULT_PRIORITY))
            .join()
            .unwrap();
        match r {
            Ok(rt) => assert_eq!(rt.priority, DEFAULT_PRIORITY),
            Err(e) => assert!(
                e.contains("SCHED_FIFO") && e.contains("CAP_SYS_NICE"),
                "{e}"
            ),
        }
    }
}
