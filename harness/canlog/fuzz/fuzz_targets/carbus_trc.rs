//! Fuzz the carbus_trc reader (format forced, strict and lenient).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| common::check(data, Some(ovms_canlog::Format::CarbusTrc)));
