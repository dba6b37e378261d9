//! The capture file: tap and observer lines, flushed per line, readable while and after writing.

mod common;

use common::{id, mosquitto, T};
use ovms_hil_net::app::AppClient;
use ovms_hil_net::barrier::settle;
use ovms_hil_net::capture::{read_capture, CaptureError, CaptureWriter, Source};
use ovms_hil_net::client::ClientOptions;
use ovms_hil_net::observer::{Observer, ObserverOptions};
use ovms_hil_net::tap::{Tap, TapOptions};
use ovms_hil_net::{BrokerOptions, TimeSource};

#[tokio::test]
async fn tap_and_observer_share_one_capture_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capture.jsonl");
    let cap = CaptureWriter::create(&path).unwrap();
    let time = TimeSource::new();
    let b = mosquitto(BrokerOptions::default()).await;
    let tap = Tap::start(
        &b.endpoint(),
        TapOptions {
            capture: Some(cap.clone()),
            time: time.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let obs = Observer::connect(
        ObserverOptions::new(ClientOptions::new(b.endpoint(), "observer-1"), &["ovms/#"])
            .with_capture(cap.clone())
            .with_time(time.clone()),
    )
    .await
    .unwrap();
    let module = AppClient::connect(ClientOptions::new(tap.endpoint(), id("mod")).with_will(
        "ovms/u/v/metric/s/v3/connected",
        "no",
        1,
        true,
    ))
    .await
    .unwrap();
    time.set_millis(12_500);
    module
        .publish("ovms/u/v/metric/v/b/soc", "81.5", 1, true)
        .await
        .unwrap();
    module
        .publish("ovms/u/v/bin", vec![0xffu8, 0x00, 0x80], 0, false)
        .await
        .unwrap();
    tap.wait_event(T, |e| {
        e.to_record().topic.as_deref() == Some("ovms/u/v/bin")
    })
    .await
    .unwrap();
    settle(&tap, &obs, T).await.unwrap();

    // Readable while the writers are still alive: every line is already on disk.
    let live = read_capture(&path).unwrap();
    assert!(live
        .iter()
        .any(|r| r.src == Source::Observer && r.topic.as_deref() == Some("ovms/u/v/bin")));

    drop(module);
    drop(obs);
    drop(tap);
    drop(cap);
    let recs = read_capture(&path).unwrap();
    let connect = recs
        .iter()
        .find(|r| r.src == Source::Tap && r.kind.as_deref() == Some("connect"))
        .expect("tap recorded CONNECT");
    assert_eq!(
        connect.extra["will"]["topic"],
        "ovms/u/v/metric/s/v3/connected"
    );
    assert_eq!(connect.extra["will"]["retain"], true);
    assert_eq!(connect.extra["password_present"], false);
    assert_eq!(connect.dir.as_deref(), Some("to_broker"));

    let sent = recs
        .iter()
        .find(|r| r.src == Source::Tap && r.topic.as_deref() == Some("ovms/u/v/metric/v/b/soc"))
        .unwrap();
    assert_eq!(
        (sent.qos, sent.retain, sent.dup),
        (Some(1), Some(true), Some(false))
    );
    assert_eq!(sent.payload.as_deref(), Some("81.5"));
    assert_eq!(sent.t, Some(12.5));
    assert!(sent.wall > 1.7e9);

    let seen_bin = recs
        .iter()
        .find(|r| r.src == Source::Observer && r.topic.as_deref() == Some("ovms/u/v/bin"))
        .unwrap();
    assert_eq!(seen_bin.payload_encoding.as_deref(), Some("base64"));
    assert_eq!(seen_bin.payload_bytes().unwrap(), vec![0xff, 0x00, 0x80]);
    assert_eq!(seen_bin.conn.as_deref(), Some("observer-1"));
    // Sentinels are marked as injected on the tap side and never reported by the observer.
    assert!(
        recs.iter()
            .any(|r| r.src == Source::Tap
                && r.extra.get("injected") == Some(&serde_json::json!(true)))
    );
    assert!(!recs.iter().any(|r| r.src == Source::Observer
        && r.topic
            .as_deref()
            .unwrap_or("")
            .starts_with("ovms-hil/barrier")));
    // Raw lines carry the mandatory keys.
    let text = std::fs::read_to_string(&path).unwrap();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            v.get("src").is_some() && v.get("t").is_some() && v.get("wall").is_some(),
            "{line}"
        );
    }
}

#[test]
fn a_bad_line_is_reported_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl");
    std::fs::write(
        &path,
        "{\"src\":\"tap\",\"t\":null,\"wall\":1.0}\n\n{\"src\":\"observer\",\"t\":1,\"wall\":2.0,\"qos\":\"x\"}\n",
    )
    .unwrap();
    match read_capture(&path) {
        Err(CaptureError::Parse {
            line,
            column,
            message,
            ..
        }) => {
            assert_eq!(line, 3);
            assert!(column > 40, "column {column}");
            assert!(message.contains("invalid type"), "{message}");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    let err = read_capture(dir.path().join("missing.jsonl")).unwrap_err();
    assert!(matches!(err, CaptureError::Io { .. }));
}
