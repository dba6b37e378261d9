//! The observer's capture file survives the harness being killed with SIGKILL: every message the
//! broker acknowledged and the observer received is in the file, and the file reads back without
//! a parse error (records are appended one whole line at a time, unbuffered).
//!
//! The test runs itself as a child process (`child_records_then_waits_to_be_killed`, a no-op
//! unless `OVMS_HIL_SIGKILL_CHILD` names the capture file): the child starts a real Mosquitto, an
//! observer writing the capture, publishes `N` confirmed QoS 1 messages, waits until the observer
//! saw them all, prints `READY <mosquitto pid>` and waits. The parent kills it with SIGKILL (no
//! destructor, no flush), kills its orphaned Mosquitto, and reads the file.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use ovms_hil_net::app::AppClient;
use ovms_hil_net::broker::mosquitto::MosquittoBroker;
use ovms_hil_net::capture::{read_capture, CaptureWriter, Source};
use ovms_hil_net::client::ClientOptions;
use ovms_hil_net::observer::{Observer, ObserverOptions};
use ovms_hil_net::BrokerOptions;

const CHILD_ENV: &str = "OVMS_HIL_SIGKILL_CHILD";
const N: usize = 300;

#[tokio::test]
async fn child_records_then_waits_to_be_killed() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return; // only meaningful as the child of `capture_survives_sigkill`
    };
    let broker = MosquittoBroker::start(&BrokerOptions::default())
        .await
        .expect("mosquitto");
    let capture = CaptureWriter::create(&path).expect("capture file");
    let obs = Observer::connect(
        ObserverOptions::new(
            ClientOptions::new(broker.endpoint(), "sigkill-observer"),
            &["sig/#"],
        )
        .with_capture(capture),
    )
    .await
    .expect("observer");
    let app = AppClient::connect(ClientOptions::new(broker.endpoint(), "sigkill-app"))
        .await
        .expect("app");
    for i in 0..N {
        app.publish_confirmed(
            &format!("sig/{i}"),
            format!("payload-{i}").into_bytes(),
            1,
            false,
            Duration::from_secs(5),
        )
        .await
        .expect("publish");
    }
    obs.wait_count("sig/#", N, Duration::from_secs(10))
        .await
        .expect("observer saw every message");
    println!("READY {}", broker.pid().unwrap_or(0));
    // Wait to be killed (bounded, so a broken parent cannot leave this running forever).
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[test]
fn capture_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capture.jsonl");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_records_then_waits_to_be_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut mosquitto_pid = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest prints `test <name> ... ` on the same line first.
        if let Some((_, pid)) = line.split_once("READY ") {
            mosquitto_pid = pid.trim().parse::<u32>().ok();
            break;
        }
    }
    // SIGKILL: no destructors, no flush, no clean shutdown.
    let status = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let _ = child.wait();
    if let Some(pid) = mosquitto_pid.filter(|p| *p > 0) {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    assert!(
        mosquitto_pid.is_some(),
        "the child never reported READY (no mosquitto?)"
    );
    let records = read_capture(&path).expect("the capture reads back after SIGKILL");
    let mut payloads: Vec<String> = records
        .iter()
        .filter(|r| {
            r.src == Source::Observer && r.topic.as_deref().is_some_and(|t| t.starts_with("sig/"))
        })
        .filter_map(|r| r.payload.clone())
        .collect();
    payloads.sort();
    payloads.dedup();
    let mut want: Vec<String> = (0..N).map(|i| format!("payload-{i}")).collect();
    want.sort();
    assert_eq!(payloads.len(), N, "records lost by the SIGKILL");
    assert_eq!(payloads, want);
}
