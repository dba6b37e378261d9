//! Parser and decoder tests on small DBC texts.

use super::*;

const HEADER: &str = "VERSION \"\"\n\nNS_ :\n\tNS_DESC_\n\tCM_\n\nBS_:\n\nBU_: A B\n\n";

fn strict(text: &str) -> Result<Dbc, DbcError> {
    Dbc::parse_str(text, "t.dbc", LoadOptions { lenient: false })
}

fn lenient(text: &str) -> Result<Dbc, DbcError> {
    Dbc::parse_str(text, "t.dbc", LoadOptions { lenient: true })
}

fn err_string(e: DbcError) -> String {
    e.to_string()
}

#[test]
fn parses_messages_signals_values_and_extended_ids() {
    let text = format!(
        "{HEADER}BO_ 291 Msg1: 8 A\n SG_ Speed : 0|16@1+ (0.01,0) [0|655.35] \"km/h\" B\n SG_ Gear : 23|4@0+ (1,0) [0|15] \"\" B,A\n\n\
         BO_ 2566834709 Ext: 8 A\n SG_ T : 0|8@1- (1,-40) [-40|215] \"C\" B\n\n\
         CM_ SG_ 291 Speed \"multi\nline; with semicolon\";\n\
         BA_DEF_ BO_ \"GenMsgCycleTime\" INT 0 1000;\n\
         VAL_ 291 Gear 0 \"P\" 1 \"R\" ;\n\
         VAL_TABLE_ Tbl 1 \"one\" 0 \"zero\" ;\n"
    );
    let db = strict(&text).unwrap();
    assert_eq!(db.messages().len(), 2);
    let m = &db.messages()[0];
    assert_eq!(
        (m.id, m.extended, m.name.as_str(), m.len),
        (291, false, "Msg1", 8)
    );
    let gear = m.signal("Gear").unwrap();
    assert_eq!(gear.order, ByteOrder::BigEndian);
    assert_eq!(gear.receivers, vec!["B", "A"]);
    assert_eq!(
        gear.choices,
        vec![(0, "P".to_string()), (1, "R".to_string())]
    );
    let e = &db.messages()[1];
    assert!(e.extended);
    assert_eq!(e.id, 2566834709 & 0x1FFF_FFFF);
    assert_eq!(db.value_tables()[0].0, "Tbl");
    // Extended ids only match extended frames.
    let mut out = Vec::new();
    assert!(db.decode(e.id, false, &[0; 8], &mut out).is_none());
    assert_eq!(
        db.decode(e.id, true, &[0xFE, 0, 0, 0, 0, 0, 0, 0], &mut out),
        Some(1)
    );
    assert_eq!(out, vec![(0, -42.0)]);
    out.clear();
    // Speed 0x1234 * 0.01; gear = high nibble of byte 2 (start bit 23, Motorola).
    db.decode(291, false, &[0x34, 0x12, 0x50, 0, 0, 0, 0, 0], &mut out);
    assert_eq!(out.len(), 2);
    assert!((out[0].1 - 46.6).abs() < 1e-9);
    assert_eq!(out[1], (1, 5.0));
}

#[test]
fn multiplexed_signals_follow_the_switch() {
    let text = format!(
        "{HEADER}BO_ 100 Mx: 8 A\n SG_ Sel M : 0|8@1+ (1,0) [0|0] \"\" B\n SG_ Always : 56|8@1+ (1,0) [0|0] \"\" B\n\
         SG_ A1 m1 : 8|8@1+ (1,0) [0|0] \"\" B\n SG_ A2 m2 : 8|16@1+ (2,0) [0|0] \"\" B\n"
    );
    let db = strict(&text).unwrap();
    let mut out = Vec::new();
    db.decode(100, false, &[1, 7, 1, 0, 0, 0, 0, 9], &mut out);
    assert_eq!(out, vec![(0, 1.0), (1, 9.0), (2, 7.0)]);
    out.clear();
    db.decode(100, false, &[2, 7, 1, 0, 0, 0, 0, 9], &mut out);
    assert_eq!(out, vec![(0, 2.0), (1, 9.0), (3, 2.0 * 0x107 as f64)]);
    out.clear();
    // A switch value with no signals: only the plain ones.
    db.decode(100, false, &[5, 7, 1, 0, 0, 0, 0, 9], &mut out);
    assert_eq!(out, vec![(0, 5.0), (1, 9.0)]);
    assert!(db.compiled(0).knows_mux_value(2) && !db.compiled(0).knows_mux_value(5));
}

#[test]
fn truncated_frames_skip_signals_that_do_not_fit() {
    let text = format!(
        "{HEADER}BO_ 1 T: 8 A\n SG_ Lo : 0|8@1+ (1,0) [0|0] \"\" B\n SG_ Hi : 39|8@0+ (1,0) [0|0] \"\" B\n"
    );
    let db = strict(&text).unwrap();
    let mut out = Vec::new();
    db.decode(1, false, &[3, 0], &mut out);
    assert_eq!(out, vec![(0, 3.0)]);
}

#[test]
fn float_signals_via_sig_valtype() {
    let text = format!(
        "{HEADER}BO_ 2 F: 8 A\n SG_ X : 0|32@1- (1,0) [0|0] \"\" B\n SG_ Y : 39|32@0- (1,0) [0|0] \"\" B\nSIG_VALTYPE_ 2 X : 1;\nSIG_VALTYPE_ 2 Y : 1;\n"
    );
    let db = strict(&text).unwrap();
    assert_eq!(db.messages()[0].signals[0].value_type, ValueType::Float32);
    let x = 1.5f32.to_le_bytes();
    let y = (-0.25f32).to_be_bytes();
    let mut out = Vec::new();
    db.decode(
        2,
        false,
        &[x[0], x[1], x[2], x[3], y[0], y[1], y[2], y[3]],
        &mut out,
    );
    assert_eq!(out, vec![(0, 1.5), (1, -0.25)]);
}

#[test]
fn strict_errors_carry_file_line_column() {
    // Syntax error: missing `|` on line 11.
    let text = format!("{HEADER}BO_ 1 T: 8 A\n SG_ Lo : 0 8@1+ (1,0) [0|0] \"\" B\n");
    let e = err_string(strict(&text).unwrap_err());
    assert_eq!(e, "t.dbc:12:13: expected `|`, found number `8`");
    // Missing BS_/BU_ is a defect: strict error at the first BO_, lenient warning.
    let text = "VERSION \"\"\nNS_ :\n  CM_\n\nBO_ 1 T: 8 A\n SG_ Lo : 0|8@1+ (1,0) [0|0] \"\" B\n";
    let e = err_string(strict(text).unwrap_err());
    assert!(
        e.starts_with("t.dbc:5:1: `BS_:` and `BU_:` sections are missing between `NS_`"),
        "{e}"
    );
    let db = lenient(text).unwrap();
    assert_eq!(db.messages().len(), 1);
    assert_eq!(db.warnings()[0].line, 5);
    assert!(db.warnings()[0]
        .to_string()
        .starts_with("t.dbc:5: warning:"));
    // Unterminated string.
    let e = err_string(strict("VERSION \"abc\n").unwrap_err());
    assert_eq!(e, "t.dbc:1:9: unterminated string");
    // Bad signal length.
    let text = format!("{HEADER}BO_ 1 T: 8 A\n SG_ Lo : 0|0@1+ (1,0) [0|0] \"\" B\n");
    assert_eq!(
        err_string(lenient(&text).unwrap_err()),
        "t.dbc:12:13: signal length 0 is not in 1..=64"
    );
}

#[test]
fn overlap_and_unknown_val_are_strict_errors_and_lenient_warnings() {
    let text = format!(
        "{HEADER}BO_ 1 T: 8 A\n SG_ A : 0|8@1+ (1,0) [0|0] \"\" B\n SG_ B : 4|8@1+ (1,0) [0|0] \"\" B\n\nVAL_ 1 Nope 0 \"x\" ;\n"
    );
    let e = err_string(strict(&text).unwrap_err());
    assert_eq!(e, "t.dbc:13:6: signals `B` and `A` overlap in message `T`");
    let db = lenient(&text).unwrap();
    let w: Vec<String> = db.warnings().iter().map(|w| w.to_string()).collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].starts_with("t.dbc:13: warning: signals `B` and `A` overlap"));
    assert!(w[1].starts_with("t.dbc:15: warning: VAL_ for signal `Nope`"));
    // Both overlapping signals still decode.
    let mut out = Vec::new();
    db.decode(1, false, &[0xAB, 0xCD, 0, 0, 0, 0, 0, 0], &mut out);
    assert_eq!(out, vec![(0, 0xAB as f64), (1, 0xDA as f64)]);
    // Multiplexed signals of different values may share bits.
    let mux = format!(
        "{HEADER}BO_ 1 T: 8 A\n SG_ S M : 0|8@1+ (1,0) [0|0] \"\" B\n SG_ A m1 : 8|8@1+ (1,0) [0|0] \"\" B\n SG_ B m2 : 8|8@1+ (1,0) [0|0] \"\" B\n"
    );
    assert!(strict(&mux).is_ok());
    // A signal beyond the message length.
    let long = format!("{HEADER}BO_ 1 T: 2 A\n SG_ A : 16|8@1+ (1,0) [0|0] \"\" B\n");
    assert!(
        err_string(strict(&long).unwrap_err()).contains("does not fit in message `T` (2 bytes)")
    );
}

#[test]
fn independent_signal_message_is_ignored_like_cantools() {
    let text = format!(
        "{HEADER}BO_ 3221225472 VECTOR__INDEPENDENT_SIG_MSG: 0 Vector__XXX\n SG_ A : 0|8@1+ (1,0) [0|0] \"\" B\n\nVAL_ 3221225472 A 0 \"x\" ;\n"
    );
    let db = strict(&text).unwrap();
    assert!(db.messages().is_empty());
}

#[test]
fn all_shipped_dbcs_load_leniently_and_strictness_matches_the_manifest() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/dbc");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut strict_failures = Vec::new();
    let mut messages = Vec::new();
    for p in &names {
        let db = Dbc::load(p, LoadOptions { lenient: true }).unwrap_or_else(|e| panic!("{e}"));
        assert!(!db.messages().is_empty(), "{}", p.display());
        if let Err(e) = Dbc::load(p, LoadOptions { lenient: false }) {
            strict_failures.push(p.file_name().unwrap().to_string_lossy().to_string());
            let s = e.to_string();
            messages.push(s.clone());
            // FILE:LINE:COL: message
            let rest = s.split_once(".dbc:").unwrap().1;
            let mut parts = rest.splitn(3, ':');
            assert!(parts.next().unwrap().parse::<u32>().is_ok(), "{s}");
            assert!(parts.next().unwrap().parse::<u32>().is_ok(), "{s}");
        }
    }
    assert_eq!(
        strict_failures,
        vec![
            "bmw-i3_LIM.dbc",
            "kona-ev_bcan.dbc",
            "kona-ev_ccan.dbc",
            "kona-ev_pcan.dbc",
            "nissan-leaf_CAR-can_AZE0.dbc",
            "nissan-leaf_EV-can_ZE1.dbc",
            "nissan-leaf_QC-CAN_ALL.dbc",
            "tesla-model-s_opendbc_tesla_can.dbc",
        ],
        "{messages:#?}"
    );
    let pcan = Dbc::load(&dir.join("kona-ev_pcan.dbc"), LoadOptions { lenient: true }).unwrap();
    assert_eq!(pcan.messages().len(), 107);
}

/// xorshift64* for reproducible mutations.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[test]
fn mutated_dbc_text_never_panics_and_errors_are_located() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/dbc/nissan-leaf_EV-can_ZE1.dbc");
    let original = std::fs::read(path).unwrap();
    let junk: &[u8] = b" \n:|@+-()[],;\"0123456789.eEmMSG_BO_VAL_x\xff";
    let mut st = 0x1234_5678_9ABC_DEF0u64;
    let mut errors = 0;
    for _ in 0..300 {
        let mut bytes = original.clone();
        for _ in 0..(1 + next(&mut st) % 6) {
            let at = (next(&mut st) % bytes.len() as u64) as usize;
            match next(&mut st) % 3 {
                0 => bytes[at] = junk[(next(&mut st) % junk.len() as u64) as usize],
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, junk[(next(&mut st) % junk.len() as u64) as usize]),
            }
        }
        let text: String = bytes.iter().map(|&b| b as char).collect();
        for lenient in [false, true] {
            match Dbc::parse_str(&text, "m.dbc", LoadOptions { lenient }) {
                Ok(db) => {
                    // Whatever loaded must decode any frame without panicking.
                    let mut out = Vec::new();
                    for m in db.messages() {
                        out.clear();
                        db.decode(m.id, m.extended, &[0xA5; 8], &mut out);
                        db.decode(m.id, m.extended, &[0x5A; 3], &mut out);
                    }
                }
                Err(DbcError::At { pos, .. }) => {
                    assert!(pos.line >= 1 && pos.col >= 1);
                    errors += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
    assert!(
        errors > 100,
        "mutations should hit syntax errors ({errors})"
    );
}
