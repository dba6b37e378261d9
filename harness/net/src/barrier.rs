//! Barrier: wait until everything the module sent has passed the tap and reached the observer,
//! without sleeping blindly.
//!
//! [`settle`] injects a QoS 0 sentinel PUBLISH (`<prefix>/<conn>-<n>`, empty payload) into the
//! module → broker stream of every open, connected tap connection, and waits until the observer
//! has received each sentinel. Before injecting, it waits until each QoS 2 PUBLISH the module
//! sent has been released by its PUBREL (mosquitto delivers QoS 2 messages only on PUBREL, so a
//! sentinel injected between PUBLISH and PUBREL would overtake them).
//!
//! **Guarantee.** When `settle` returns `Ok`, for each such connection: every byte the module's
//! socket writes had completed before `settle` was called has been read by the tap (it drains
//! the kernel buffer before injecting) and forwarded to the broker ahead of the sentinel; every
//! QoS 2 message among them has been released (PUBREL passed the tap); and — since
//! a broker handles one connection's packets in order and delivers to one subscriber in order —
//! every resulting delivery to the observer's subscriptions was received before the sentinel.
//! For mosquitto this holds because our generated config sets `max_inflight_messages 0`, so no
//! QoS 1/2 delivery waits in a queue that the QoS 0 sentinel could overtake. Deliveries the
//! broker *drops* (ACL denials, non-matching filters) are simply absent. Requirements: the
//! observer subscribes to `<prefix>/#` (the default of [`crate::observer::ObserverOptions`]) and
//! the module's user may publish below `<prefix>` (pass a prefix inside its ACL, e.g.
//! `ovms/<user>/hil-barrier`). A half-open tap fails fast instead of timing out.
//!
//! **Not covered:** bytes the module has not written yet. A client library that writes from a
//! background task (rumqttc's event loop) may return from `publish()` before the bytes reach
//! the socket; the emulator edge must flush its writes first, or the caller waits for the tap to
//! have seen the packet ([`crate::tap::Tap::wait_event`]) or for its acknowledgement.

use crate::observer::Observer;
use crate::tap::{Tap, TapError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static SEQ: AtomicU64 = AtomicU64::new(1);

/// What a settle covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// Sentinel topics injected and seen, one per connection.
    pub sentinels: Vec<String>,
    /// How long it took.
    pub elapsed: Duration,
}

/// Why a barrier failed.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// The observer has no barrier subscription.
    #[error("observer {0} was started without a barrier prefix")]
    NoBarrierSubscription(String),
    /// The tap could not inject.
    #[error(transparent)]
    Tap(#[from] TapError),
    /// A sentinel did not arrive.
    #[error("barrier: sentinel {topic} did not reach observer {observer} within {timeout:?}")]
    Timeout {
        /// Sentinel topic.
        topic: String,
        /// Observer.
        observer: String,
        /// Limit.
        timeout: Duration,
    },
}

/// Settles with the observer's own barrier prefix.
pub async fn settle(
    tap: &Tap,
    observer: &Observer,
    timeout: Duration,
) -> Result<Settled, SettleError> {
    let prefix = observer
        .barrier_prefix()
        .ok_or_else(|| SettleError::NoBarrierSubscription(observer.name().into()))?
        .to_string();
    settle_with_prefix(tap, observer, &prefix, timeout).await
}

/// Settles injecting sentinels below `prefix` (must match the observer's barrier filter and
/// the module's ACL).
pub async fn settle_with_prefix(
    tap: &Tap,
    observer: &Observer,
    prefix: &str,
    timeout: Duration,
) -> Result<Settled, SettleError> {
    let start = Instant::now();
    let mut sentinels = Vec::new();
    for conn in tap.connected() {
        let left = timeout.saturating_sub(start.elapsed());
        tap.wait_qos2_released(conn, left).await?;
        let topic = format!("{prefix}/{conn}-{}", SEQ.fetch_add(1, Ordering::Relaxed));
        match tap.inject_sentinel(conn, &topic).await {
            Ok(()) => sentinels.push(topic),
            // The connection closed between listing and injecting: nothing left to wait for.
            Err(TapError::NoConnection(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for topic in &sentinels {
        let left = timeout.saturating_sub(start.elapsed());
        observer
            .wait_sentinel(topic, left)
            .await
            .map_err(|_| SettleError::Timeout {
                topic: topic.clone(),
                observer: observer.name().into(),
                timeout,
            })?;
    }
    Ok(Settled {
        sentinels,
        elapsed: start.elapsed(),
    })
}
