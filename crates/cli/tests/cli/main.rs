//! End-to-end tests of the real `hearth` binary: each test is a temporary installation (its own
//! `HEARTH_CONFIG`, `HEARTH_DATA_DIR` and keyring service) and pins what a user sees — stdout,
//! stderr and the exit code — with `$TMP` for the temporary directory.
//!
//! `UPDATE_EXPECT=1 cargo test -p hearth --test cli` rewrites the snapshots; read them after.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

mod support;

mod bench;
mod chaos;
mod config;
mod crash_safety;
mod model_switching;
mod readme;
mod real;
mod routing;
mod secrets;
mod serve;
mod tokens;
mod ui;
mod ui_first_run;
