//! The pipeline report as running totals: counts, values and stage times per group.
//!
//! Each group keeps its count, its values per currency and, for the average time in stage,
//! the exact sum of its opportunities' stage-entry times with those times in order: at `now`,
//! the time in stage of the group is `timed × now − Σ entered`, less what the entries stamped
//! after `now` (a phone's clock ahead, counted as zero) would add, which are read off the end
//! of the order. So a report costs the groups, not the opportunities.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{Account, Opportunity, Stage};
//! use itinera_core::reports::{Aggregate, PipelineTotals, Summary};
//!
//! let mut account = Account { owner: "sam".into(), ..Default::default() };
//! account.opportunities.insert("o".into(), Opportunity { stage: Stage::Lost, ..Default::default() });
//! let mut totals = PipelineTotals::default();
//! totals.add(DocumentId::from_bytes([1; 16]), &Summary::Account((&account).into()));
//! assert_eq!(totals.report(0, &()).lost, 1);
//! ```

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::DocumentId;
use crate::model::Stage;
use crate::reports::aggregate::running_amounts::RunningAmounts;
use crate::reports::aggregate::{Aggregate, step};
use crate::reports::pipeline::{average_days, most_frequent_first, rep_of, weighted_value};
use crate::reports::summary::{AccountSummary, OpportunitySummary};
use crate::reports::{PipelineGroup, PipelineReport, Summary};

/// Running totals of [`crate::reports::pipeline`].
#[derive(Debug, Clone, Default)]
pub struct PipelineTotals {
    open: RunningGroup,
    by_stage: BTreeMap<Stage, RunningGroup>,
    by_rep: BTreeMap<String, RunningGroup>,
    by_territory: BTreeMap<String, RunningGroup>,
    by_tour: BTreeMap<String, RunningGroup>,
    won: u64,
    lost: u64,
    lost_reasons: BTreeMap<Option<String>, u64>,
}

/// One group's totals.
#[derive(Debug, Clone, Default)]
struct RunningGroup {
    count: u64,
    value: RunningAmounts,
    weighted_value: RunningAmounts,
    /// Exact sum of the stage-entry times of the opportunities that have one.
    entered_sum: i128,
    /// Those times in order, each with how many opportunities share it.
    entered: BTreeMap<i64, u64>,
}

impl RunningGroup {
    fn add(&mut self, opportunity: &OpportunitySummary) {
        self.count += 1;
        self.value
            .add(&opportunity.currency, opportunity.amount_minor);
        self.weighted_value
            .add(&opportunity.currency, weighted_value(opportunity));
        if let Some(entered) = opportunity.stage_entered_at {
            self.entered_sum += i128::from(entered);
            *self.entered.entry(entered).or_default() += 1;
        }
    }

    fn remove(&mut self, opportunity: &OpportunitySummary) {
        self.count = self.count.saturating_sub(1);
        self.value
            .remove(&opportunity.currency, opportunity.amount_minor);
        self.weighted_value
            .remove(&opportunity.currency, weighted_value(opportunity));
        if let Some(entered) = opportunity.stage_entered_at {
            if let Some(count) = self.entered.get_mut(&entered) {
                self.entered_sum -= i128::from(entered);
                *count -= 1;
                if *count == 0 {
                    self.entered.remove(&entered);
                }
            }
        }
    }

    fn finish(&self, key: &str, now_ms: i64) -> PipelineGroup {
        let now = i128::from(now_ms);
        let timed: u64 = self.entered.values().sum::<u64>();
        // Entries after `now` count as zero: take them out of the sum.
        let (mut later, mut later_sum) = (0u64, 0i128);
        for (entered, count) in self
            .entered
            .range((Bound::Excluded(now_ms), Bound::Unbounded))
        {
            later += count;
            later_sum += i128::from(*entered) * i128::from(*count);
        }
        let in_stage_ms = i128::from(timed - later) * now - (self.entered_sum - later_sum);
        PipelineGroup {
            key: key.to_owned(),
            count: self.count,
            value: self.value.amounts(),
            weighted_value: self.weighted_value.amounts(),
            average_days_in_stage: average_days(in_stage_ms, timed),
        }
    }
}

impl PipelineTotals {
    /// Adds (`adding`) or takes out every opportunity the pipeline counts of `account`.
    fn count(&mut self, account: &AccountSummary, adding: bool) {
        if account.archived {
            return;
        }
        for opportunity in account.opportunities.iter().filter(|o| !o.archived) {
            match opportunity.stage {
                Stage::Won => step(&mut self.won, 1, adding),
                Stage::Lost => {
                    step(&mut self.lost, 1, adding);
                    let reason = opportunity.lost_reason.clone();
                    let count = self.lost_reasons.entry(reason.clone()).or_default();
                    step(count, 1, adding);
                    if *count == 0 {
                        self.lost_reasons.remove(&reason);
                    }
                }
                stage => {
                    let rep = rep_of(account, opportunity);
                    let territory = account.territory.as_str();
                    if adding {
                        self.open.add(opportunity);
                    } else {
                        self.open.remove(opportunity);
                    }
                    update(&mut self.by_stage, stage, opportunity, adding);
                    update(&mut self.by_rep, rep.to_owned(), opportunity, adding);
                    update(
                        &mut self.by_territory,
                        territory.to_owned(),
                        opportunity,
                        adding,
                    );
                    for tour in &opportunity.tours {
                        update(&mut self.by_tour, tour.clone(), opportunity, adding);
                    }
                }
            }
        }
    }
}

/// Adds or takes out `opportunity` in the group `key`, which goes when it is empty.
fn update<K: Ord>(
    groups: &mut BTreeMap<K, RunningGroup>,
    key: K,
    opportunity: &OpportunitySummary,
    adding: bool,
) {
    if adding {
        groups.entry(key).or_default().add(opportunity);
    } else if let Some(group) = groups.get_mut(&key) {
        group.remove(opportunity);
        if group.count == 0 {
            groups.remove(&key);
        }
    }
}

impl Aggregate for PipelineTotals {
    type Report = PipelineReport;
    type Options = ();

    fn add(&mut self, _id: DocumentId, summary: &Summary) {
        if let Summary::Account(account) = summary {
            self.count(account, true);
        }
    }

    fn remove(&mut self, _id: DocumentId, summary: &Summary) {
        if let Summary::Account(account) = summary {
            self.count(account, false);
        }
    }

    fn report(&self, now_ms: i64, _: &()) -> PipelineReport {
        let finish = |groups: &BTreeMap<String, RunningGroup>| -> Vec<PipelineGroup> {
            groups
                .iter()
                .map(|(key, group)| group.finish(key, now_ms))
                .collect()
        };
        PipelineReport {
            open: self.open.finish("open", now_ms),
            by_stage: self
                .by_stage
                .iter()
                .map(|(stage, group)| group.finish(stage.as_str(), now_ms))
                .collect(),
            by_rep: finish(&self.by_rep),
            by_territory: finish(&self.by_territory),
            by_tour: finish(&self.by_tour),
            won: self.won,
            lost: self.lost,
            lost_reasons: most_frequent_first(self.lost_reasons.clone()),
        }
    }
}
