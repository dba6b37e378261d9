//! CAN logs in, frames out.
//!
//! Layout: [`frame`] is the one `Frame` type every reader yields and every writer takes.

pub mod frame;

pub use frame::{Direction, Frame};
