//! The ovms-emu binary: the emulated module on a real broker (tokio + rumqttc at the edge)
fn main() {}
