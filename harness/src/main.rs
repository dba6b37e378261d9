//! The `ovms-hil` command line.
fn main() {}
