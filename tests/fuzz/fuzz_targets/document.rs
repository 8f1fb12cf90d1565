#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(init: harness::report_caught_panics(), |data: &[u8]| harness::document(data));
