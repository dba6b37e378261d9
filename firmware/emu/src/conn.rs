//! One broker connection: a task that polls one rumqttc `EventLoop` and forwards its events,
//! and the queue of packets handed to rumqttc but not yet written to the socket.
//!
//! The task stops at the first error, so rumqttc never reconnects by itself (the core decides
//! when). Dropping a [`Conn`] aborts the task, which drops the `EventLoop` and closes the socket
//! **without** DISCONNECT.

use std::collections::VecDeque;

use ovms_firmware::io::QoS;
use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What the connection task forwards.
pub(crate) type ConnEvent = Result<Event, ConnectionError>;

/// A packet handed to rumqttc and not yet written to the socket.
pub(crate) enum Queued {
    Publish {
        topic: String,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
    },
    Subscribe(Vec<(String, QoS)>),
    Disconnect,
}

/// One broker connection (connecting or connected).
pub(crate) struct Conn {
    pub client: AsyncClient,
    pub rx: mpsc::UnboundedReceiver<ConnEvent>,
    task: JoinHandle<()>,
    pub connected: bool,
    /// Packets handed to rumqttc, in order; popped on each matching `Outgoing` event (rumqttc
    /// reports those after writing and flushing the packet).
    pub queue: VecDeque<Queued>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Drops the EventLoop and its socket: no DISCONNECT is sent.
        self.task.abort();
    }
}

impl Conn {
    /// Start connecting with `options` (TCP/TLS connect, CONNECT, wait for CONNACK) on a new task.
    pub(crate) fn open(options: MqttOptions) -> Conn {
        let (client, mut eventloop) = AsyncClient::new(options, 1024);
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(ev) => {
                        if tx.send(Ok(ev)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        Conn {
            client,
            rx,
            task,
            connected: false,
            queue: VecDeque::new(),
        }
    }
}

/// The next event of the connection, or never when there is none.
pub(crate) async fn recv_conn(conn: &mut Option<Conn>) -> ConnEvent {
    match conn {
        Some(c) => match c.rx.recv().await {
            Some(ev) => ev,
            // The task ended without an error event (aborted): report it as closed.
            None => Err(ConnectionError::MqttState(
                rumqttc::StateError::ConnectionAborted,
            )),
        },
        None => std::future::pending().await,
    }
}
