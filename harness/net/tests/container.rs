//! The mosquitto container built locally FROM scratch (skipped, with the reason printed, only
//! when `docker info` fails).
#![cfg(feature = "containers")]

mod common;

use common::{id, observer, T};
use ovms_hil_net::app::AppClient;
use ovms_hil_net::client::ClientOptions;
use ovms_hil_net::{start_broker, BrokerChoice, BrokerOptions};

fn docker_info_ok() -> Result<(), String> {
    match std::process::Command::new("docker").arg("info").output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()),
        Err(e) => Err(format!("cannot run docker: {e}")),
    }
}

#[tokio::test]
async fn container_broker_delivers_retained_messages() {
    if let Err(reason) = docker_info_ok() {
        println!("SKIPPED container test: `docker info` failed: {reason}");
        return;
    }
    let mut b = start_broker(BrokerChoice::Container, BrokerOptions::default())
        .await
        .expect("container broker starts");
    assert_eq!(b.kind(), "container");
    let line = b.describe();
    assert!(line.starts_with("broker: mosquitto 2."), "{line}");
    let app = AppClient::connect(ClientOptions::new(b.endpoint(), id("c")))
        .await
        .unwrap();
    app.publish_confirmed("c/r", "from the container", 1, true, T)
        .await
        .unwrap();
    let obs = observer(b.endpoint(), &["c/#"]).await;
    let s = obs.wait_for(T, |s| s.topic == "c/r").await.unwrap();
    assert!(s.retain);
    assert_eq!(s.text(), "from the container");
    // Restart on the same host port.
    let ep = b.endpoint();
    b.restart().await.unwrap();
    assert_eq!(b.endpoint(), ep);
    obs.wait_connacks(2, std::time::Duration::from_secs(15))
        .await
        .unwrap();
}
