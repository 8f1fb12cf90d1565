//! The process's own figures at each scrape, under the names every Prometheus client library
//! uses (`process_resident_memory_bytes`, `process_cpu_seconds_total`, `process_open_fds`, …),
//! read from `/proc` with the `procfs` crate. Elsewhere than Linux they are left out.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// Registered once per scrape; reads `/proc/self` when encoded.
#[derive(Debug, Clone, Copy)]
pub struct ProcessCollector;

/// What one reading of `/proc/self` found.
#[derive(Debug, Default)]
struct ProcessFigures {
    cpu_seconds: f64,
    resident_bytes: u64,
    virtual_bytes: u64,
    threads: i64,
    start_time_seconds: f64,
    open_fds: Option<u64>,
    max_fds: Option<u64>,
}

fn read() -> Option<ProcessFigures> {
    let process = procfs::process::Process::myself().ok()?;
    let stat = process.stat().ok()?;
    let ticks = procfs::ticks_per_second().max(1) as f64;
    let boot = procfs::boot_time_secs().unwrap_or(0) as f64;
    let max_fds = process
        .limits()
        .ok()
        .and_then(|limits| match limits.max_open_files.soft_limit {
            procfs::process::LimitValue::Value(value) => Some(value),
            procfs::process::LimitValue::Unlimited => None,
        });
    Some(ProcessFigures {
        cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
        resident_bytes: stat.rss.saturating_mul(procfs::page_size()),
        virtual_bytes: stat.vsize,
        threads: stat.num_threads,
        start_time_seconds: boot + stat.starttime as f64 / ticks,
        open_fds: process.fd_count().ok().map(|count| count as u64),
        max_fds,
    })
}

fn gauge(value: u64) -> ConstGauge {
    ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX))
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let Some(figures) = read() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(figures.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu",
            "User and system CPU time spent.",
            Some(&Unit::Seconds),
            cpu.metric_type(),
        )?)?;
        let bytes = [
            (
                "process_resident_memory",
                "Resident memory size.",
                figures.resident_bytes,
            ),
            (
                "process_virtual_memory",
                "Virtual memory size.",
                figures.virtual_bytes,
            ),
        ];
        for (name, help, value) in bytes {
            let metric = gauge(value);
            metric.encode(encoder.encode_descriptor(
                name,
                help,
                Some(&Unit::Bytes),
                metric.metric_type(),
            )?)?;
        }
        let start = ConstGauge::new(figures.start_time_seconds);
        start.encode(encoder.encode_descriptor(
            "process_start_time",
            "When the process started, since the Unix epoch.",
            Some(&Unit::Seconds),
            start.metric_type(),
        )?)?;
        let threads = ConstGauge::new(figures.threads);
        threads.encode(encoder.encode_descriptor(
            "process_threads",
            "Threads of the process.",
            None,
            threads.metric_type(),
        )?)?;
        let fds = [
            (
                "process_open_fds",
                "Open file descriptors.",
                figures.open_fds,
            ),
            (
                "process_max_fds",
                "The most file descriptors the process may open.",
                figures.max_fds,
            ),
        ];
        for (name, help, value) in fds {
            if let Some(value) = value {
                let metric = gauge(value);
                metric.encode(encoder.encode_descriptor(
                    name,
                    help,
                    None,
                    metric.metric_type(),
                )?)?;
            }
        }
        Ok(())
    }
}
