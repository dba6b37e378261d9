//! Fuzz format detection followed by whichever reader it picks.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| common::check(data, None));
