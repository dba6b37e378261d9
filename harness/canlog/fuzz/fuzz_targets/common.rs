//! Shared body of every fuzz target: read `data` strictly and leniently with a given (or detected)
//! format and check the invariants that hold for any input.

use ovms_canlog::{read, Format, Frame, ReadOptions, Record};

pub fn check(data: &[u8], format: Option<Format>) {
    for lenient in [false, true] {
        let opts = ReadOptions { format, lenient };
        let reader = match read(data, "fuzz", &opts) {
            Ok(r) => r,
            Err(e) => {
                let (_, column) = e.location();
                assert!(column >= 1, "{e}");
                assert!(e.to_string().starts_with("fuzz:"));
                continue;
            }
        };
        let mut n = 0usize;
        for rec in reader {
            n += 1;
            match rec {
                Ok(Record::Frame(f)) => {
                    assert!(f.data.len() <= 64);
                    assert!(f.fd || f.data.len() <= 8);
                    assert!(f.extended || f.error || f.id <= 0x7FF);
                    assert!(f.id <= 0x1FFF_FFFF);
                }
                Ok(_) => {}
                Err(e) => {
                    assert!(!lenient || e.is_io() || matches!(format, Some(Format::Pcap | Format::Pcapng)) || format.is_none(), "{e}");
                    assert!(e.location().1 >= 1, "{e}");
                }
            }
            // Every record consumes input: the iterator always ends.
            assert!(n <= data.len() + 2);
        }
        // `read_frame` into one reused frame reads the same frames and errors as the iterator.
        let both = (read(data, "fuzz", &opts), read(data, "fuzz", &opts));
        if let (Ok(frames), Ok(mut reuse)) = both {
            let mut slot = Frame::default();
            for item in frames.frames() {
                match (item, reuse.read_frame(&mut slot)) {
                    (Ok(f), Ok(true)) => assert_eq!(f, slot),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => panic!("iterator {a:?}, read_frame {b:?}"),
                }
            }
            assert!(matches!(reuse.read_frame(&mut slot), Ok(false)));
        }
    }
}
