//! Without a Docker socket the container broker fails fast with a one-line reason.
//! (Its own test binary: it changes DOCKER_HOST for the whole process.)
#![cfg(feature = "containers")]

use ovms_hil_net::{start_broker, BrokerChoice, BrokerOptions};
use std::time::{Duration, Instant};

#[tokio::test]
async fn missing_docker_socket_is_a_fast_one_line_error() {
    // SAFETY: this binary has a single test, so no other thread reads the environment meanwhile.
    unsafe { std::env::set_var("DOCKER_HOST", "unix:///nonexistent/ovms-hil-docker.sock") };
    let t0 = Instant::now();
    let err = start_broker(BrokerChoice::Container, BrokerOptions::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(
        text,
        "docker: no Docker socket at /nonexistent/ovms-hil-docker.sock (from DOCKER_HOST)"
    );
    assert!(!text.contains('\n'));
    assert!(t0.elapsed() < Duration::from_secs(1));
}
