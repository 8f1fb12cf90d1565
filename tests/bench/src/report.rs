//! Figures, the table that puts the servers side by side, and the goals.
//!
//! ```ignore
//! let mut table = Table::default();
//! table.add(Peer::Node, 'a', outcome);
//! println!("{}", table.render(&peers));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::peers::Peer;

/// What a number counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Millis,
    Bytes,
    PerSecond,
    Count,
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// One measured number.
#[derive(Debug, Clone)]
pub struct Figure {
    pub measure: String,
    pub unit: Unit,
    pub value: f64,
    pub better: Better,
}

impl Figure {
    pub fn new(measure: impl Into<String>, unit: Unit, value: f64) -> Self {
        Self {
            measure: measure.into(),
            unit,
            value,
            better: Better::Lower,
        }
    }

    pub fn higher_is_better(mut self) -> Self {
        self.better = Better::Higher;
        self
    }
}

/// What one workload on one server gave: figures, or why it failed.
#[derive(Debug, Default)]
pub struct Outcome {
    pub figures: Vec<Figure>,
    /// Set when the run lost edits, did not converge or could not finish: no figure counts.
    pub failure: Option<String>,
}

impl Outcome {
    pub fn push(&mut self, figure: Figure) {
        self.figures.push(figure);
    }

    pub fn fail(&mut self, why: impl Into<String>) {
        let why = why.into();
        self.failure = Some(match self.failure.take() {
            Some(before) => format!("{before}; {why}"),
            None => why,
        });
    }

    pub fn value(&self, measure: &str) -> Option<f64> {
        if self.failure.is_some() {
            return None;
        }
        self.figures
            .iter()
            .find(|f| f.measure == measure)
            .map(|f| f.value)
    }
}

/// Every outcome of a run, by workload and server.
#[derive(Debug, Default)]
pub struct Table {
    outcomes: BTreeMap<char, BTreeMap<&'static str, Outcome>>,
}

impl Table {
    pub fn add(&mut self, peer: Peer, workload: char, outcome: Outcome) {
        self.outcomes
            .entry(workload)
            .or_default()
            .insert(peer.short(), outcome);
    }

    pub fn get(&self, peer: Peer, workload: char) -> Option<&Outcome> {
        self.outcomes.get(&workload)?.get(peer.short())
    }

    pub fn value(&self, peer: Peer, workload: char, measure: &str) -> Option<f64> {
        self.get(peer, workload)?.value(measure)
    }

    /// A Markdown table: one row per workload and measure, a column per server, then the ratio
    /// of each Itinera run to each peer (Itinera ÷ peer), and of Itinera on PostgreSQL to
    /// Itinera durable on its embedded store.
    pub fn render(&self, peers: &[Peer]) -> String {
        let itineras: Vec<Peer> = peers.iter().copied().filter(|p| p.is_itinera()).collect();
        let others: Vec<Peer> = peers.iter().copied().filter(|p| !p.is_itinera()).collect();
        let mut pairs: Vec<(Peer, Peer)> = itineras
            .iter()
            .flat_map(|i| others.iter().map(move |o| (*i, *o)))
            .collect();
        if peers.contains(&Peer::ItineraDurable) {
            pairs.extend(
                peers
                    .iter()
                    .filter(|p| p.on_postgres())
                    .map(|p| (*p, Peer::ItineraDurable)),
            );
        }
        let mut out = String::new();
        let mut header = vec!["wl".to_string(), "measure".to_string()];
        header.extend(peers.iter().map(|p| p.label().to_string()));
        for (i, o) in &pairs {
            header.push(format!("{} ÷ {}", i.short(), o.label()));
        }
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(
            out,
            "|{}",
            header.iter().map(|_| "---|").collect::<String>()
        );
        for (workload, by_peer) in &self.outcomes {
            // Measures in the order the first outcome lists them.
            let mut measures: Vec<(String, Unit, Better)> = Vec::new();
            for peer in peers {
                if let Some(outcome) = by_peer.get(peer.short()) {
                    for f in &outcome.figures {
                        if !measures.iter().any(|(m, _, _)| *m == f.measure) {
                            measures.push((f.measure.clone(), f.unit, f.better));
                        }
                    }
                }
            }
            for (measure, unit, better) in &measures {
                let mut row = vec![workload.to_string(), measure.clone()];
                let value = |peer: Peer| -> Option<f64> {
                    by_peer
                        .get(peer.short())?
                        .figures
                        .iter()
                        .find(|f| f.measure == *measure)
                        .map(|f| f.value)
                };
                for peer in peers {
                    let failed = by_peer
                        .get(peer.short())
                        .is_some_and(|o| o.failure.is_some());
                    row.push(match (value(*peer), failed) {
                        (Some(v), false) => format_value(v, *unit),
                        (Some(v), true) => format!("FAILED ({})", format_value(v, *unit)),
                        (None, true) => "FAILED".to_string(),
                        (None, false) => "–".to_string(),
                    });
                }
                for (i, o) in &pairs {
                    row.push(match (value(*i), value(*o)) {
                        (Some(a), Some(b)) if b > 0.0 => {
                            let mark = if *better == Better::Higher {
                                " ↑"
                            } else {
                                ""
                            };
                            format!("{:.2}×{mark}", a / b)
                        }
                        _ => "–".to_string(),
                    });
                }
                let _ = writeln!(out, "| {} |", row.join(" | "));
            }
        }
        for (workload, by_peer) in &self.outcomes {
            for peer in peers {
                if let Some(why) = by_peer.get(peer.short()).and_then(|o| o.failure.as_ref()) {
                    let _ = writeln!(out, "\nFAILED: {workload} on {}: {why}", peer.label());
                }
            }
        }
        out
    }
}

pub fn format_value(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Seconds => format!("{value:.3} s"),
        Unit::Millis => format!("{value:.1} ms"),
        Unit::Bytes => {
            if value >= 1e9 {
                format!("{:.2} GB", value / 1e9)
            } else if value >= 1e6 {
                format!("{:.1} MB", value / 1e6)
            } else if value >= 1e4 {
                format!("{:.1} KB", value / 1e3)
            } else {
                format!("{value:.0} B")
            }
        }
        Unit::PerSecond => format!("{value:.0}/s"),
        Unit::Count => format!("{value:.0}"),
    }
}
