//! Bad input never panics: the CRTD decoder of the simulate server and the control-channel
//! parser on arbitrary text, and CRTD frames round-trip through their text form.

use ovms_emu::control::{escape, parse_command, unescape};
use ovms_emu::crtd::{parse_line, CrtdRecord};
use proptest::prelude::*;

proptest! {
    #[test]
    fn crtd_lines_never_panic(line in "\\PC{0,80}") {
        let _ = parse_line(&line);
    }

    #[test]
    fn crtd_like_lines_never_panic(line in "[0-9]{1,3}(\\.[0-9]{0,6})? [0-9]?(R|T|C)(11|29|XX|DP|DR)? [0-9a-fA-Fz ]{0,40}") {
        if let Err(e) = parse_line(&line) {
            prop_assert!(e.column >= 1 && e.column <= line.chars().count() + 1, "{e} in {line:?}");
        }
    }

    #[test]
    fn crtd_frames_round_trip(bus in 1u8..=9, ext: bool, id in 0u32..0x2000_0000, data in proptest::collection::vec(any::<u8>(), 0..=8)) {
        let id = if ext { id } else { id & 0x7FF };
        let bytes: Vec<String> = data.iter().map(|b| format!("{b:02x}")).collect();
        let line = format!("12.345678 {bus}R{} {id:X} {}", if ext { 29 } else { 11 }, bytes.join(" "));
        prop_assert_eq!(parse_line(line.trim_end()).unwrap(), CrtdRecord::Frame { bus: bus - 1, id, extended: ext, data });
    }

    #[test]
    fn control_lines_never_panic(line in "\\PC{0,80}") {
        let _ = parse_command(&line);
    }

    #[test]
    fn control_like_lines_never_panic(cmd in "(advance|set|event|notify|frame|metrics|now|status) [ -~]{0,40}") {
        let _ = parse_command(&cmd);
    }

    #[test]
    fn escaping_round_trips(v in "\\PC{0,40}|[\\\\\\n\\r a]{0,20}") {
        let e = escape(&v);
        prop_assert!(!e.contains('\n') && !e.contains('\r'));
        prop_assert_eq!(unescape(&e), v);
    }
}
