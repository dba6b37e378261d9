//! Broker behaviour against a real mosquitto process: retain, TLS, password, ACL, kill/restart.

mod common;

use common::{id, mosquitto, observer, T};
use ovms_hil_net::app::AppClient;
use ovms_hil_net::broker::PasswdMethod;
use ovms_hil_net::client::{ClientError, ClientOptions};
use ovms_hil_net::observer::{Observer, ObserverOptions};
use ovms_hil_net::{start_broker, BrokerChoice, BrokerOptions};
use std::time::Duration;

fn users() -> Vec<(String, String)> {
    vec![("A".into(), "pa".into()), ("B".into(), "pb".into())]
}

#[tokio::test]
async fn retained_message_reaches_a_late_subscriber_with_retain_set() {
    let b = mosquitto(BrokerOptions::default()).await;
    let app = AppClient::connect(ClientOptions::new(b.endpoint(), id("pub")))
        .await
        .unwrap();
    app.publish_confirmed("ovms/u/v/metric/v/b/soc", "81", 1, true, T)
        .await
        .unwrap();
    app.publish_confirmed("ovms/u/v/metric/v/b/range", "200", 1, false, T)
        .await
        .unwrap();
    // Subscribe only now: the retained one comes back with retain=true, the other not at all.
    let obs = observer(b.endpoint(), &["ovms/u/v/#"]).await;
    let seen = obs
        .wait_for(T, |s| s.topic.ends_with("/soc"))
        .await
        .unwrap();
    assert!(seen.retain, "retained copy must carry retain=1");
    assert_eq!(seen.text(), "81");
    assert_eq!(seen.qos, 1);
    assert!(obs
        .expect_silence("ovms/u/v/metric/v/b/range", Duration::from_millis(300))
        .await
        .is_ok());
    // A live publish to an existing subscriber arrives with retain=false.
    app.publish("ovms/u/v/metric/v/b/soc", "82", 0, true)
        .await
        .unwrap();
    let live = obs.wait_for(T, |s| s.text() == "82").await.unwrap();
    assert!(!live.retain);
    assert_eq!(live.qos, 0);
}

#[tokio::test]
async fn start_broker_auto_prefers_the_local_mosquitto_and_says_why() {
    let b = start_broker(BrokerChoice::Auto, BrokerOptions::default())
        .await
        .unwrap();
    assert_eq!(b.kind(), "mosquitto");
    let line = b.describe();
    assert!(line.starts_with("broker: mosquitto 2."), "{line}");
    assert!(
        line.contains(&format!("(local process, 127.0.0.1:{})", b.endpoint().port)),
        "{line}"
    );
    assert!(
        b.why().starts_with("auto: mosquitto binary found at "),
        "{}",
        b.why()
    );
    assert!(b.capabilities().exact_qos && b.capabilities().will && b.capabilities().restart);
    assert!(!b.capabilities().tls && !b.capabilities().acl);
    assert!(b.log().await.contains(" running"));
}

#[tokio::test]
async fn tls_with_the_generated_ca_connects_and_a_wrong_ca_fails_clearly() {
    let b = mosquitto(BrokerOptions {
        tls: true,
        ..Default::default()
    })
    .await;
    let tls = b.tls().unwrap();
    let ok = Observer::connect(ObserverOptions::new(
        ClientOptions::new(tls.endpoint.clone(), id("tls")).with_tls(&tls.ca_cert),
        &["t/#"],
    ))
    .await
    .expect("TLS with our CA");
    let app = AppClient::connect(
        ClientOptions::new(tls.endpoint.clone(), id("tlspub")).with_tls(&tls.ca_cert),
    )
    .await
    .unwrap();
    app.publish("t/x", "over tls", 1, false).await.unwrap();
    assert_eq!(
        ok.wait_for(T, |s| s.topic == "t/x").await.unwrap().text(),
        "over tls"
    );

    // A second, unrelated CA: the handshake must fail and say why.
    let other = tempfile::tempdir().unwrap();
    let wrong =
        ovms_hil_net::broker::certs::generate_tls_files(other.path(), "some other CA").unwrap();
    let err = Observer::connect(ObserverOptions::new(
        ClientOptions::new(tls.endpoint.clone(), id("badtls"))
            .with_tls(&wrong.ca_cert)
            .without_reconnect(),
        &["t/#"],
    ))
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ClientError::Connect { .. }), "{err:?}");
    assert!(
        text.contains("UnknownIssuer") || text.to_lowercase().contains("certificate"),
        "{text}"
    );
    // Plain MQTT on the TLS port does not get a CONNACK either.
    assert!(
        AppClient::connect(ClientOptions::new(tls.endpoint, id("plain")).without_reconnect())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn wrong_password_and_anonymous_are_refused_on_the_auth_listener() {
    let b = mosquitto(BrokerOptions {
        users: users(),
        ..Default::default()
    })
    .await;
    let ep = b.auth().unwrap();
    let good =
        AppClient::connect(ClientOptions::new(ep.clone(), id("A")).with_credentials("A", "pa"))
            .await;
    assert!(good.is_ok(), "{good:?}");
    let bad = AppClient::connect(
        ClientOptions::new(ep.clone(), id("A"))
            .with_credentials("A", "wrong")
            .without_reconnect(),
    )
    .await
    .unwrap_err();
    match &bad {
        ClientError::Refused { reason, .. } => assert!(
            reason.contains("rc 5") || reason.contains("rc 4"),
            "{reason}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let anon = AppClient::connect(ClientOptions::new(ep, id("anon")).without_reconnect())
        .await
        .unwrap_err();
    assert!(matches!(anon, ClientError::Refused { .. }), "{anon:?}");
}

#[tokio::test]
async fn builtin_pbkdf2_password_file_is_accepted_by_mosquitto() {
    let b = mosquitto(BrokerOptions {
        users: users(),
        passwd_method: PasswdMethod::Builtin,
        ..Default::default()
    })
    .await;
    let text = std::fs::read_to_string(b.dir().join("passwd")).unwrap();
    assert!(text.starts_with("A:$7$101$"), "{text}");
    let ep = b.auth().unwrap();
    AppClient::connect(ClientOptions::new(ep.clone(), id("B")).with_credentials("B", "pb"))
        .await
        .expect("B logs in");
    let err = AppClient::connect(
        ClientOptions::new(ep, id("B"))
            .with_credentials("B", "pa")
            .without_reconnect(),
    )
    .await;
    assert!(matches!(err, Err(ClientError::Refused { .. })), "{err:?}");
}

#[tokio::test]
async fn acl_user_a_sees_nothing_under_ovms_b() {
    let b = mosquitto(BrokerOptions {
        users: users(),
        ..Default::default()
    })
    .await;
    let ep = b.auth().unwrap();
    let b_client =
        AppClient::connect(ClientOptions::new(ep.clone(), id("B")).with_credentials("B", "pb"))
            .await
            .unwrap();
    b_client
        .publish_confirmed("ovms/B/car/metric/soc", "50", 1, true, T)
        .await
        .unwrap();
    let obs_a = Observer::connect(ObserverOptions::new(
        ClientOptions::new(ep.clone(), id("A")).with_credentials("A", "pa"),
        &["ovms/B/#", "ovms/A/#"],
    ))
    .await
    .unwrap();
    let obs_b = Observer::connect(ObserverOptions::new(
        ClientOptions::new(ep.clone(), id("B")).with_credentials("B", "pb"),
        &["ovms/B/#"],
    ))
    .await
    .unwrap();
    // B sees its own retained message, so the broker did deliver it to allowed subscribers.
    assert!(
        obs_b
            .wait_for(T, |s| s.topic == "ovms/B/car/metric/soc")
            .await
            .unwrap()
            .retain
    );
    b_client
        .publish("ovms/B/car/metric/soc", "49", 1, false)
        .await
        .unwrap();
    obs_b.wait_for(T, |s| s.text() == "49").await.unwrap();
    // A: silence under ovms/B/ for a bounded time, neither retained nor live.
    if let Err(s) = obs_a
        .expect_silence("ovms/B/#", Duration::from_millis(1500))
        .await
    {
        panic!("A must not see ovms/B/: got {s:?}");
    }
    // A's own subtree works (so the silence is the ACL, not a dead connection).
    let a_client = AppClient::connect(ClientOptions::new(ep, id("A")).with_credentials("A", "pa"))
        .await
        .unwrap();
    a_client
        .publish("ovms/A/car/metric/soc", "10", 1, false)
        .await
        .unwrap();
    obs_a
        .wait_for(T, |s| s.topic == "ovms/A/car/metric/soc")
        .await
        .unwrap();
}

#[tokio::test]
async fn kill_and_restart_keep_the_port_and_the_observer_resubscribes() {
    let mut b = mosquitto(BrokerOptions::default()).await;
    let ep = b.endpoint();
    let obs = observer(ep.clone(), &["r/#"]).await;
    let pid1 = b.pid().unwrap();
    b.kill().await.unwrap();
    assert!(
        tokio::net::TcpStream::connect((ep.host.as_str(), ep.port))
            .await
            .is_err(),
        "port must be closed after kill"
    );
    b.restart().await.unwrap();
    assert_ne!(b.pid().unwrap(), pid1);
    assert_eq!(b.endpoint(), ep, "same port after restart");
    // The observer reconnects and re-subscribes by itself (persistence is off: state is gone).
    obs.wait_connacks(2, Duration::from_secs(10)).await.unwrap();
    let app = AppClient::connect(ClientOptions::new(ep, id("after")))
        .await
        .unwrap();
    app.publish("r/x", "back", 1, false).await.unwrap();
    assert_eq!(
        obs.wait_for(T, |s| s.topic == "r/x").await.unwrap().text(),
        "back"
    );
    b.stop().await.unwrap();
    assert!(b.pid().is_none());
}

#[tokio::test]
async fn a_broker_that_cannot_start_reports_its_log() {
    let err = ovms_hil_net::broker::mosquitto::MosquittoBroker::start(&BrokerOptions {
        extra_config: vec!["this_is_not_an_option 1".into()],
        ..Default::default()
    })
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("exited during start"), "{text}");
    assert!(text.contains("this_is_not_an_option"), "{text}");
}
