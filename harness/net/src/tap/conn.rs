//! One accepted connection: reach the upstream broker, then run both pumps until both end.

use super::event::TapEventKind;
use super::pump::Pump;
use super::shared::{ConnCtl, TapShared};
use super::Direction;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

pub(crate) async fn handle(
    shared: Arc<TapShared>,
    conn: u64,
    client: TcpStream,
    peer: SocketAddr,
    upstream: String,
) {
    shared.record(conn, Direction::ToBroker, TapEventKind::Accepted { peer });
    let up = match TcpStream::connect(&upstream).await {
        Ok(s) => s,
        Err(e) => {
            shared.record(
                conn,
                Direction::ToBroker,
                TapEventKind::UpstreamFailed {
                    error: format!("connecting to {upstream}: {e}"),
                },
            );
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = up.set_nodelay(true);
    let (close, _) = watch::channel(None);
    let (inject_tx, inject_rx) = mpsc::channel(8);
    let version = Arc::new(Mutex::new(None));
    let pending_qos2 = Arc::new(Mutex::new(HashSet::new()));
    shared
        .conns
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            conn,
            ConnCtl {
                close: close.clone(),
                inject: inject_tx,
                version: version.clone(),
                pending_qos2: pending_qos2.clone(),
            },
        );
    let (cr, cw) = client.into_split();
    let (ur, uw) = up.into_split();
    let to_broker = Pump {
        shared: shared.clone(),
        conn,
        dir: Direction::ToBroker,
        reader: cr,
        writer: uw,
        close: close.clone(),
        inject: Some(inject_rx),
        version: version.clone(),
        pending_qos2: Some(pending_qos2),
    };
    let to_client = Pump {
        shared: shared.clone(),
        conn,
        dir: Direction::ToClient,
        reader: ur,
        writer: cw,
        close,
        inject: None,
        version,
        pending_qos2: None,
    };
    tokio::join!(to_broker.run(), to_client.run());
    shared
        .conns
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&conn);
}
