//! Reports of a run: the collected results ([`model`]), the cucumber event collector
//! ([`collect`]), the console summary ([`summary`]) and JUnit XML ([`junit`]).

pub mod collect;
pub mod junit;
pub mod model;
pub mod summary;

pub use model::{Attempt, RunResults, ScenarioResult, Status};
