#![no_main]
//! `events`: see `common.rs` (shared with the stable replay test, tests/fuzz_replay.rs).

#[allow(clippy::all, dead_code, unused_variables, unused_mut)]
mod schema {
    include!(concat!(env!("OUT_DIR"), "/schema.rs"));
}
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::run("events", &schema::SCHEMA, data);
});
