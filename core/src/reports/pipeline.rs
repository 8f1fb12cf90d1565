//! The sales pipeline: open opportunities by stage, rep, territory and tour, and why deals
//! were lost.
//!
//! Open means neither won nor lost, not archived, on an account that is not archived (or merged
//! away). Money is summed per currency ([`Amounts`]), never across currencies. The weighted
//! value of an opportunity is `amount × probability / 100`, the probability clamped to 0–100,
//! rounded half away from zero per opportunity, then summed. Time in stage is `now` minus the
//! time of the opportunity's last stage change (a change stamped after `now` counts as zero);
//! an opportunity never moved has no such time and is left out of the average (not out of
//! counts and values). The average sums whole milliseconds exactly and divides once, so it is
//! the same whatever order the opportunities come in (the server's running totals,
//! [`PipelineTotals`](crate::reports::PipelineTotals), give the very same figure).
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Account, Opportunity, Stage};
//! use itinera_core::reports::{Summary, pipeline};
//!
//! let mut account = Account { owner: "sam".into(), territory: "north".into(), ..Default::default() };
//! account.opportunities.insert("o-1".into(), Opportunity {
//!     stage: Stage::Proposal, amount_minor: 1_001, currency: "EUR".into(), probability: 50,
//!     ..Default::default()
//! });
//! let summaries = [(DocumentId::from_bytes([1; 16]), Summary::Account((&account).into()))];
//! let report = pipeline(&summaries, 0);
//! assert_eq!(report.by_rep[0].key, "sam"); // the opportunity has no owner: the account's
//! assert_eq!(report.open.weighted_value.get("EUR"), 501); // 500.5 rounds up
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DocumentId;
use crate::model::Stage;
use crate::reports::amounts::Amounts;
use crate::reports::calendar::DAY_MS;
use crate::reports::rounding::div_round;
use crate::reports::summary::{AccountSummary, OpportunitySummary, Summary};
use crate::reports::summary_index::SummaryIndex;

/// Open opportunities grouped four ways, and lost reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineReport {
    /// Every open opportunity together (key `open`).
    pub open: PipelineGroup,
    /// By stage, in pipeline order (prospecting first).
    pub by_stage: Vec<PipelineGroup>,
    /// By the opportunity's owner, or the account's owner when it names none.
    pub by_rep: Vec<PipelineGroup>,
    /// By the account's territory.
    pub by_territory: Vec<PipelineGroup>,
    /// By tour id: an opportunity counts under every tour it names, so these groups overlap
    /// and do not add up to `open`; one naming no tour is in none.
    pub by_tour: Vec<PipelineGroup>,
    /// Opportunities won (same exclusions as open ones).
    pub won: u64,
    /// Opportunities lost (same exclusions as open ones).
    pub lost: u64,
    /// Lost opportunities by reason, most frequent first.
    pub lost_reasons: Vec<LostReason>,
}

/// Open opportunities sharing a stage, rep, territory or tour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineGroup {
    /// The stage, rep user id, territory or tour id.
    pub key: String,
    /// How many opportunities.
    pub count: u64,
    /// Sum of amounts, per currency.
    pub value: Amounts,
    /// Sum of probability-weighted amounts, per currency.
    pub weighted_value: Amounts,
    /// Mean days since the last stage change, over the opportunities that have one.
    pub average_days_in_stage: Option<f64>,
}

/// How often one reason was given for losing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostReason {
    /// The reason as entered; `None` when none was given.
    pub reason: Option<String>,
    /// How many lost opportunities give it.
    pub count: u64,
}

/// The pipeline as of `now_ms` (Unix ms).
pub fn pipeline(summaries: &[(DocumentId, Summary)], now_ms: i64) -> PipelineReport {
    let index = SummaryIndex::new(summaries);
    let mut open = Group::default();
    let mut by_stage: BTreeMap<Stage, Group> = BTreeMap::new();
    let mut by_rep: BTreeMap<&str, Group> = BTreeMap::new();
    let mut by_territory: BTreeMap<&str, Group> = BTreeMap::new();
    let mut by_tour: BTreeMap<&str, Group> = BTreeMap::new();
    let (mut won, mut lost) = (0u64, 0u64);
    let mut lost_reasons: BTreeMap<Option<String>, u64> = BTreeMap::new();

    let accounts = index.accounts.values().filter(|account| !account.archived);
    for account in accounts {
        for opportunity in account.opportunities.iter().filter(|o| !o.archived) {
            match opportunity.stage {
                Stage::Won => won += 1,
                Stage::Lost => {
                    lost += 1;
                    *lost_reasons
                        .entry(opportunity.lost_reason.clone())
                        .or_default() += 1;
                }
                _ => {
                    let rep = rep_of(account, opportunity);
                    open.add(opportunity, now_ms);
                    by_stage
                        .entry(opportunity.stage)
                        .or_default()
                        .add(opportunity, now_ms);
                    by_rep.entry(rep).or_default().add(opportunity, now_ms);
                    by_territory
                        .entry(account.territory.as_str())
                        .or_default()
                        .add(opportunity, now_ms);
                    for tour in &opportunity.tours {
                        by_tour
                            .entry(tour.as_str())
                            .or_default()
                            .add(opportunity, now_ms);
                    }
                }
            }
        }
    }

    PipelineReport {
        open: open.finish("open".into()),
        by_stage: by_stage
            .into_iter()
            .map(|(stage, group)| group.finish(stage.as_str().into()))
            .collect(),
        by_rep: finish_all(by_rep),
        by_territory: finish_all(by_territory),
        by_tour: finish_all(by_tour),
        won,
        lost,
        lost_reasons: most_frequent_first(lost_reasons),
    }
}

/// Lost reasons, most frequent first, from counts in reason order.
pub(crate) fn most_frequent_first(counts: BTreeMap<Option<String>, u64>) -> Vec<LostReason> {
    let mut reasons: Vec<LostReason> = counts
        .into_iter()
        .map(|(reason, count)| LostReason { reason, count })
        .collect();
    // Stable: equal counts stay in reason order.
    reasons.sort_by_key(|reason| std::cmp::Reverse(reason.count));
    reasons
}

/// A group being summed.
#[derive(Debug, Default)]
struct Group {
    count: u64,
    value: Amounts,
    weighted_value: Amounts,
    /// Milliseconds in stage, summed exactly.
    in_stage_ms: i128,
    timed: u64,
}

impl Group {
    fn add(&mut self, opportunity: &OpportunitySummary, now_ms: i64) {
        self.count += 1;
        let currency = &opportunity.currency;
        self.value.add(currency, opportunity.amount_minor);
        self.weighted_value
            .add(currency, weighted_value(opportunity));
        if let Some(entered) = opportunity.stage_entered_at {
            // A stage change stamped after `now` (a phone's clock ahead) counts as just now.
            self.in_stage_ms += (i128::from(now_ms) - i128::from(entered)).max(0);
            self.timed += 1;
        }
    }

    fn finish(self, key: String) -> PipelineGroup {
        PipelineGroup {
            key,
            count: self.count,
            value: self.value,
            weighted_value: self.weighted_value,
            average_days_in_stage: average_days(self.in_stage_ms, self.timed),
        }
    }
}

/// `amount × probability / 100`, the probability clamped to 0–100, rounded half away from zero.
pub(crate) fn weighted_value(opportunity: &OpportunitySummary) -> i64 {
    let probability = opportunity.probability.clamp(0, 100);
    div_round(
        i128::from(opportunity.amount_minor) * i128::from(probability),
        100,
    )
}

/// Whose an opportunity is: its owner, or the account's owner when it names none.
pub(crate) fn rep_of<'a>(
    account: &'a AccountSummary,
    opportunity: &'a OpportunitySummary,
) -> &'a str {
    if opportunity.owner.is_empty() {
        &account.owner
    } else {
        &opportunity.owner
    }
}

/// The mean of `timed` spans summing `in_stage_ms`, in days; `None` when nothing is timed.
pub(crate) fn average_days(in_stage_ms: i128, timed: u64) -> Option<f64> {
    (timed > 0).then(|| in_stage_ms as f64 / timed as f64 / DAY_MS as f64)
}

fn finish_all(groups: BTreeMap<&str, Group>) -> Vec<PipelineGroup> {
    groups
        .into_iter()
        .map(|(key, group)| group.finish(key.to_owned()))
        .collect()
}
