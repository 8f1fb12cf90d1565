//! The long crash loop: `cargo run --release -p itinera-tests --example crash_loop -- [CYCLES]
//! [DEVICES] [SEED]` (defaults 100, 8, a fixed seed). Build the server first (`cargo build
//! --release -p itinera-server`): the example runs the binary next to it.
//!
//! Devices write to the server while it is killed with SIGKILL at random moments; after every
//! kill the store must check clean, and after every restart every acknowledged change must be
//! there. Prints one line per cycle and the totals; panics on the first loss.

#![allow(clippy::print_stdout)]

use std::time::Duration;

use itinera_tests::crash_loop::{Settings, run};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |index: usize, default: u64| {
        args.get(index)
            .map(|text| {
                let text = text.trim_start_matches("0x");
                u64::from_str_radix(text, if index == 2 { 16 } else { 10 })
                    .unwrap_or_else(|_| panic!("argument {} is not a number: {text}", index + 1))
            })
            .unwrap_or(default)
    };
    let settings = Settings {
        cycles: usize::try_from(number(0, 100)).unwrap_or(100),
        devices: usize::try_from(number(1, 8)).unwrap_or(8),
        seed: number(2, 0xc4a5_1007),
        min_uptime: Duration::from_millis(200),
        max_uptime: Duration::from_millis(2_000),
        backend: Default::default(),
    };
    println!(
        "crash loop: {} cycles, {} devices, seed {:#x}",
        settings.cycles, settings.devices, settings.seed
    );
    let report = run(&settings, |line| println!("{line}"));
    println!(
        "survived {} SIGKILLs: {} changes written, {} acknowledged, all {} present; {} documents check clean; {:.1} s",
        report.cycles,
        report.written,
        report.acknowledged,
        report.acknowledged,
        report.documents_checked,
        report.elapsed.as_secs_f64()
    );
}
