//! Codec: exact bytes, typed errors on bad input, no panics on random bytes, round trips.

use ovms_hil_net::codec::*;
use proptest::prelude::*;

const MAX: usize = DEFAULT_MAX_PACKET;

#[test]
fn incomplete_is_ok_none() {
    // PUBLISH QoS 1, remaining length 10, only 5 bytes present.
    let bytes = [0x32, 10, 0, 3, b'a'];
    assert_eq!(check(&bytes, MAX).unwrap(), None);
    assert_eq!(decode(&bytes, Version::V3_1_1, MAX).unwrap(), None);
    assert_eq!(check(&[], MAX).unwrap(), None);
    // Remaining length varint itself incomplete.
    assert_eq!(check(&[0x30, 0x80], MAX).unwrap(), None);
}

#[test]
fn publish_flags_decode_exactly() {
    // dup=1 qos=1 retain=1, topic "a/b", pkid 7, payload "hi"
    let bytes = [0x3b, 9, 0, 3, b'a', b'/', b'b', 0, 7, b'h', b'i'];
    let (p, n) = decode(&bytes, Version::V3_1_1, MAX).unwrap().unwrap();
    assert_eq!(n, bytes.len());
    let Packet::Publish(p) = p else {
        panic!("not a publish")
    };
    assert!(p.dup && p.retain);
    assert_eq!((p.qos, p.pkid, p.topic.as_str()), (1, Some(7), "a/b"));
    assert_eq!(p.payload, b"hi");
    assert_eq!(Packet::Publish(p).encode(Version::V3_1_1), bytes);
}

#[test]
fn connect_with_will_and_credentials() {
    let c = Connect {
        version: Version::V3_1_1,
        client_id: "mod1".into(),
        clean_session: true,
        keep_alive: 60,
        properties: vec![],
        will: Some(Will {
            topic: "ovms/u/v/metric/s/v2/connected".into(),
            payload: b"no".to_vec(),
            qos: 1,
            retain: true,
            properties: vec![],
        }),
        username: Some("u".into()),
        password: Some(b"p".to_vec()),
    };
    let bytes = Packet::Connect(c.clone()).encode(Version::V3_1_1);
    // flags: username, password, will retain, will qos 1, will, clean
    assert_eq!(bytes[9], 0b1110_1110);
    let (p, _) = decode(&bytes, Version::V3_1, MAX).unwrap().unwrap();
    assert_eq!(p, Packet::Connect(c));
}

#[test]
fn bad_input_gives_typed_errors() {
    let cases: Vec<(Vec<u8>, CodecError)> = vec![
        (vec![0x00, 0], CodecError::ReservedPacketType(0)),
        (
            vec![0x36, 0],
            CodecError::InvalidQos {
                packet: PacketType::Publish,
                qos: 3,
            },
        ),
        (vec![0x38, 4, 0, 1, b'a', 0], CodecError::DupOnQos0),
        (
            vec![0x80, 0],
            CodecError::InvalidFlags {
                packet: PacketType::Subscribe,
                flags: 0,
            },
        ),
        (
            vec![0x30, 0xff, 0xff, 0xff, 0xff, 1],
            CodecError::MalformedRemainingLength,
        ),
        (
            vec![0x30, 3, 0, 1, b'#'],
            CodecError::InvalidTopicName("#".into()),
        ),
        (
            vec![0x40, 2, 0, 0],
            CodecError::ZeroPacketId {
                packet: PacketType::PubAck,
            },
        ),
        (
            vec![0xc0, 1, 0],
            CodecError::TrailingBytes {
                packet: PacketType::PingReq,
                extra: 1,
            },
        ),
        (
            vec![0x82, 2, 0, 1],
            CodecError::NoTopicFilter {
                packet: PacketType::Subscribe,
            },
        ),
        (
            vec![0x30, 3, 0, 5, b'a'],
            CodecError::Truncated {
                packet: PacketType::Publish,
                field: "topic name",
            },
        ),
        (
            vec![0xf0, 0],
            CodecError::NotInVersion {
                packet: PacketType::Auth,
                version: Version::V3_1_1,
            },
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(
            decode(&bytes, Version::V3_1_1, MAX),
            Err(want),
            "{bytes:02x?}"
        );
    }
    let big = [0x30, 0x80, 0x80, 0x01];
    assert_eq!(
        check(&big, 1000),
        Err(CodecError::PacketTooLarge {
            size: 16388,
            max: 1000
        })
    );
    // Bad UTF-8 and U+0000 in a topic.
    assert!(matches!(
        decode(&[0x30, 3, 0, 1, 0xff], Version::V3_1_1, MAX),
        Err(CodecError::InvalidString { .. })
    ));
    assert!(matches!(
        decode(&[0x30, 3, 0, 1, 0], Version::V3_1_1, MAX),
        Err(CodecError::InvalidString { .. })
    ));
    // CONNECT: unknown protocol, reserved flag.
    let mut c = Packet::Connect(Connect {
        version: Version::V3_1_1,
        client_id: "x".into(),
        clean_session: true,
        keep_alive: 1,
        properties: vec![],
        will: None,
        username: None,
        password: None,
    })
    .encode(Version::V3_1_1);
    c[9] |= 1;
    assert_eq!(
        decode(&c, Version::V3_1_1, MAX),
        Err(CodecError::InvalidConnectFlags(0b11))
    );
    c[8] = 9;
    assert!(matches!(
        decode(&c, Version::V3_1_1, MAX),
        Err(CodecError::UnsupportedProtocol { level: 9, .. })
    ));
}

#[test]
fn v5_properties_round_trip_byte_for_byte() {
    // v5 PUBLISH qos0 topic "t", properties [0x01 0x01] (payload format = 1), payload "x"
    let bytes = [0x30, 7, 0, 1, b't', 2, 0x01, 0x01, b'x'];
    let (p, _) = decode(&bytes, Version::V5, MAX).unwrap().unwrap();
    let Packet::Publish(ref pp) = p else { panic!() };
    assert_eq!(pp.properties, vec![0x01, 0x01]);
    assert_eq!(pp.payload, b"x");
    assert_eq!(p.encode(Version::V5), bytes);
    // The same bytes read as 3.1.1 give a different payload: the version matters.
    let (p4, _) = decode(&bytes, Version::V3_1_1, MAX).unwrap().unwrap();
    let Packet::Publish(p4) = p4 else { panic!() };
    assert_eq!(p4.payload, [2, 1, 1, b'x']);
}

fn qos() -> impl Strategy<Value = u8> {
    0u8..=2
}

fn string() -> impl Strategy<Value = String> {
    "[a-z0-9/]{0,12}"
}

fn topic() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,6}(/[a-z0-9]{1,6}){0,3}"
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..40)
}

fn props(v5: bool) -> BoxedStrategy<Vec<u8>> {
    if v5 {
        proptest::collection::vec(any::<u8>(), 0..6).boxed()
    } else {
        Just(vec![]).boxed()
    }
}

fn packet(v5: bool) -> impl Strategy<Value = Packet> {
    let version = if v5 { Version::V5 } else { Version::V3_1_1 };
    let pkid = 1u16..;
    let ack = (
        pkid.clone(),
        if v5 {
            bytes().boxed()
        } else {
            Just(vec![]).boxed()
        },
    )
        .prop_map(|(pkid, rest)| Ack { pkid, rest });
    let will = (topic(), bytes(), qos(), any::<bool>(), props(v5)).prop_map(
        |(topic, payload, qos, retain, properties)| Will {
            topic,
            payload,
            qos,
            retain,
            properties,
        },
    );
    prop_oneof![
        (
            string(),
            any::<bool>(),
            any::<u16>(),
            props(v5),
            proptest::option::of(will),
            proptest::option::of(string()),
            proptest::option::of(bytes())
        )
            .prop_map(
                move |(
                    client_id,
                    clean_session,
                    keep_alive,
                    properties,
                    will,
                    username,
                    password,
                )| {
                    // 3.1.1 forbids a password without a user name.
                    let username = if !v5 && password.is_some() && username.is_none() {
                        Some(String::new())
                    } else {
                        username
                    };
                    Packet::Connect(Connect {
                        version,
                        client_id,
                        clean_session,
                        keep_alive,
                        properties,
                        will,
                        username,
                        password,
                    })
                }
            ),
        (any::<bool>(), any::<u8>(), props(v5)).prop_map(|(session_present, code, properties)| {
            Packet::ConnAck(ConnAck {
                session_present,
                code,
                properties,
            })
        }),
        (
            any::<bool>(),
            qos(),
            any::<bool>(),
            topic(),
            pkid.clone(),
            props(v5),
            bytes()
        )
            .prop_map(
                |(dup, qos, retain, topic, id, properties, payload)| Packet::Publish(Publish {
                    dup: dup && qos > 0,
                    qos,
                    retain,
                    topic,
                    pkid: (qos > 0).then_some(id),
                    properties,
                    payload,
                })
            ),
        ack.clone().prop_map(Packet::PubAck),
        ack.clone().prop_map(Packet::PubRec),
        ack.clone().prop_map(Packet::PubRel),
        ack.clone().prop_map(Packet::PubComp),
        ack.prop_map(Packet::UnsubAck),
        (
            pkid.clone(),
            props(v5),
            proptest::collection::vec((topic(), qos()), 1..4)
        )
            .prop_map(|(pkid, properties, f)| Packet::Subscribe(Subscribe {
                pkid,
                properties,
                filters: f
                    .into_iter()
                    .map(|(filter, q)| SubscribeFilter { filter, options: q })
                    .collect()
            })),
        (pkid.clone(), props(v5), bytes()).prop_map(|(pkid, properties, codes)| Packet::SubAck(
            SubAck {
                pkid,
                properties,
                codes
            }
        )),
        (pkid, props(v5), proptest::collection::vec(topic(), 1..4)).prop_map(
            |(pkid, properties, filters)| Packet::Unsubscribe(Unsubscribe {
                pkid,
                properties,
                filters
            })
        ),
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        if v5 {
            bytes().prop_map(Packet::Disconnect).boxed()
        } else {
            Just(Packet::Disconnect(vec![])).boxed()
        },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300), v5 in any::<bool>()) {
        let version = if v5 { Version::V5 } else { Version::V3_1_1 };
        // Walk the stream the way the tap does.
        let mut rest = &data[..];
        while let Ok(Some((p, n))) = decode(rest, version, 4096) {
            prop_assert!(n > 0 && n <= rest.len());
            // Whatever decodes re-encodes to something that decodes to the same packet.
            let again = p.encode(version);
            let (p2, n2) = decode(&again, version, MAX).unwrap().unwrap();
            prop_assert_eq!(&p2, &p);
            prop_assert_eq!(n2, again.len());
            rest = &rest[n..];
        }
    }

    #[test]
    fn v4_packets_round_trip(p in packet(false)) {
        let bytes = p.encode(Version::V3_1_1);
        let (q, n) = decode(&bytes, Version::V3_1_1, MAX).unwrap().unwrap();
        prop_assert_eq!(q, p);
        prop_assert_eq!(n, bytes.len());
        // Every strict prefix is incomplete, never an error.
        for cut in 0..bytes.len() {
            prop_assert_eq!(check(&bytes[..cut], MAX).unwrap(), None);
        }
    }

    #[test]
    fn v5_packets_round_trip(p in packet(true)) {
        let bytes = p.encode(Version::V5);
        let (q, n) = decode(&bytes, Version::V5, MAX).unwrap().unwrap();
        prop_assert_eq!(q, p);
        prop_assert_eq!(n, bytes.len());
    }
}
