//! The embedded rumqttd broker: starts with no install, says what it cannot be trusted with.
#![cfg(feature = "embedded")]

mod common;

use common::{id, observer, T};
use ovms_hil_net::app::AppClient;
use ovms_hil_net::client::ClientOptions;
use ovms_hil_net::{start_broker, BrokerChoice, BrokerOptions, Capabilities};

#[tokio::test]
async fn embedded_broker_serves_retained_messages_and_declares_its_limits() {
    let b = start_broker(BrokerChoice::Embedded, BrokerOptions::default())
        .await
        .unwrap();
    assert_eq!(b.kind(), "embedded");
    assert!(
        b.describe().contains("QoS on delivery not meaningful"),
        "{}",
        b.describe()
    );
    let caps = b.capabilities();
    let wanted = Capabilities {
        exact_qos: true,
        acl: true,
        retain: true,
        ..Capabilities::NONE
    };
    assert_eq!(caps.missing(&wanted), vec!["exact QoS on delivery", "ACL"]);
    let app = AppClient::connect(ClientOptions::new(b.endpoint(), id("e")))
        .await
        .unwrap();
    app.publish_confirmed("e/r", "kept", 1, true, T)
        .await
        .unwrap();
    let obs = observer(b.endpoint(), &["e/#"]).await;
    let s = obs.wait_for(T, |s| s.topic == "e/r").await.unwrap();
    assert!(s.retain);
    assert_eq!(s.text(), "kept");
    // Control operations say clearly that they are not available.
    let mut b = b;
    assert!(b
        .kill()
        .await
        .unwrap_err()
        .to_string()
        .contains("embedded broker cannot kill"));
    // TLS/users are refused rather than silently ignored.
    let err = start_broker(
        BrokerChoice::Embedded,
        BrokerOptions {
            tls: true,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("TLS"), "{err}");
}

#[tokio::test]
async fn url_choice_parses_and_reports() {
    let b = start_broker(
        "mqtt://127.0.0.1:1999".parse().unwrap(),
        BrokerOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(b.kind(), "external");
    assert_eq!(b.describe(), "broker: external mqtt://127.0.0.1:1999");
    assert_eq!(b.host_port(), ("127.0.0.1".to_string(), 1999));
    assert!("ftp://x".parse::<BrokerChoice>().is_err());
    assert_eq!("auto".parse::<BrokerChoice>().unwrap(), BrokerChoice::Auto);
}
