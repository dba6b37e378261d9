//! Bad input never panics: random input sequences (garbage topics and payloads, stray connection
//! results, odd metric values, huge topics) on every profile, with the timer invariant checked.

mod common;

use common::*;
use ovms_firmware::io::{IncomingPublish, Input, QoS};
use ovms_firmware::metrics::MetricValue;
use ovms_firmware::module::Module;
use ovms_firmware::profile::Profile;
use ovms_firmware::time::Instant;
use proptest::prelude::*;

fn topic_strategy() -> impl Strategy<Value = String> {
    let rel = prop_oneof![
        Just("client/a/active".to_string()),
        Just("client/a/command/1".to_string()),
        Just("client/+/command/#".to_string()),
        Just("client//active".to_string()),
        Just("client/a/request/metric".to_string()),
        Just("client/a/request/config".to_string()),
        Just("c/a".to_string()),
        Just("cmd/a/c/".to_string()),
        Just("cmd//c/".to_string()),
        "[a-z/+#]{0,40}",
        any::<String>(),
    ];
    (prop::bool::weighted(0.8), rel).prop_map(|(with_prefix, rel)| {
        if with_prefix {
            format!("ovms/u/car/{rel}")
        } else {
            rel
        }
    })
}

fn payload_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"1".to_vec()),
        Just(b"0".to_vec()),
        Just(Vec::new()),
        Just(b"metrics list".to_vec()),
        Just(b"A1 metrics set v.b.soc 5".to_vec()),
        Just(b"server v3 update all".to_vec()),
        Just(b"config set server.v3 updatetime.connected 0".to_vec()),
        Just(b"config set server.v3 queue.sendall -5".to_vec()),
        Just(b"config set server.v3 updatetime.sendall 0".to_vec()),
        Just(b"*".to_vec()),
        Just(b"vehicle/id".to_vec()),
        prop::collection::vec(any::<u8>(), 0..300),
        "\\PC{0,200}".prop_map(String::into_bytes),
    ]
}

fn value_strategy() -> impl Strategy<Value = MetricValue> {
    prop_oneof![
        any::<bool>().prop_map(MetricValue::Bool),
        any::<i64>().prop_map(MetricValue::Int),
        any::<f32>().prop_map(MetricValue::Float),
        Just(MetricValue::Float(f32::NAN)),
        "\\PC{0,50}".prop_map(MetricValue::Str),
        prop::collection::vec(any::<f32>(), 0..10).prop_map(MetricValue::FloatVec),
        prop::collection::vec(any::<i64>(), 0..10).prop_map(MetricValue::IntVec),
    ]
}

fn input_strategy() -> impl Strategy<Value = Input> {
    prop_oneof![
        3 => Just(Input::ConnAccepted),
        1 => any::<u8>().prop_map(Input::ConnRefused),
        1 => Just(Input::ConnectFailed),
        1 => Just(Input::ConnectionLost),
        8 => (topic_strategy(), payload_strategy(), 0u8..3, any::<bool>()).prop_map(|(topic, payload, q, retain)| {
            Input::Publish(IncomingPublish { topic, payload, qos: QoS::from_u8(q).unwrap(), retain })
        }),
        4 => (prop_oneof![Just("v.b.soc".to_string()), Just("v.e.on".to_string()), Just("v.p.latitude".to_string()), Just("m.time.utc".to_string()), "[a-z.]{0,20}"], value_strategy())
            .prop_map(|(name, value)| Input::Metric { name, value }),
        2 => prop_oneof![Just("vehicle.on".to_string()), Just("app.connected".to_string()), Just("ticker.1".to_string()), any::<String>()].prop_map(Input::Event),
        2 => (prop_oneof![Just("info".to_string()), Just("data".to_string()), Just("alert".to_string()), any::<String>()], any::<String>(), any::<String>())
            .prop_map(|(kind, subtype, text)| Input::Notify { kind, subtype, text }),
        1 => (any::<u8>(), any::<u32>(), any::<bool>(), prop::collection::vec(any::<u8>(), 0..12))
            .prop_map(|(bus, id, extended, data)| Input::CanFrame { bus, id, extended, data }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_inputs_never_panic_and_timers_stay_in_the_future(
        profile in 0usize..3,
        steps in prop::collection::vec((0u64..200_000, prop::option::of(input_strategy())), 1..80),
    ) {
        let name = Profile::builtin_names()[profile];
        let mut m = Module::new(Profile::builtin(name).unwrap(), config(), Instant::ZERO);
        let mut now = Instant::ZERO;
        for (dt, input) in steps {
            now = Instant::from_millis(now.as_millis() + dt);
            match input {
                Some(i) => m.handle(now, i),
                None => m.handle_timeout(now),
            }
            m.handle_timeout(now);
            if let Some(t) = m.poll_timeout() {
                prop_assert!(t > now, "{name}: deadline {t} not after {now} after handle_timeout");
            }
            let n = m.drain_actions().count();
            prop_assert!(n < 100_000);
        }
    }
}

#[test]
fn huge_topics_and_payloads_do_not_panic() {
    for p in Profile::builtin_names() {
        let mut r = Rig::new(p);
        r.run_secs(1);
        let huge = "x/".repeat(200_000);
        r.input(Input::Publish(IncomingPublish {
            topic: format!("ovms/u/car/client/{huge}/command/1"),
            payload: vec![b'a'; 1_000_000],
            qos: QoS::AtLeastOnce,
            retain: false,
        }));
        r.input(Input::Publish(IncomingPublish {
            topic: "ovms/u/car/client/a/command/1".into(),
            payload: vec![b'm'; 1_000_000],
            qos: QoS::AtLeastOnce,
            retain: false,
        }));
        let cmd = if *p == "draft" {
            "cmd/a/c/"
        } else {
            "client/a/command/1"
        };
        r.client_publish(cmd, &vec![0xffu8; 100_000]);
        r.client_publish(cmd, "é".repeat(3000).as_bytes());
        r.input(Input::Metric {
            name: "y".repeat(100_000),
            value: MetricValue::Str("z".repeat(100_000)),
        });
        r.run_secs(3600);
        assert!(r.module.is_connected());
    }
}

#[test]
fn out_of_order_time_is_treated_as_now() {
    let mut r = Rig::new("fw-3.3.006");
    r.run_secs(100);
    r.module.handle(
        Instant::from_secs(5),
        Input::Metric {
            name: "v.b.soc".into(),
            value: MetricValue::Float(1.0),
        },
    );
    r.module.handle_timeout(Instant::from_secs(1));
    assert!(r.module.poll_timeout().unwrap() > Instant::from_secs(100));
}
