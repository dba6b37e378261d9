//! The accept loop: given its listener, its upstream address and its shutdown signal.

use super::conn;
use super::shared::TapShared;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Accepts clients on `listener` and proxies each to `upstream` until `shutdown` resolves; then
/// closes every connection and waits for them to end.
pub(crate) async fn run(
    listener: TcpListener,
    upstream: String,
    shared: Arc<TapShared>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            r = listener.accept() => match r {
                Ok((sock, peer)) => {
                    let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
                    conns.spawn(conn::handle(shared.clone(), id, sock, peer, upstream.clone()));
                }
                Err(e) => {
                    tracing::warn!("tap accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
    drop(listener);
    shared.close_all("shutdown");
    while conns.join_next().await.is_some() {}
}
