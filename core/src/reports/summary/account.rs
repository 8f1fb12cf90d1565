//! What reports need of an account: who owns it, where it sells, and its opportunities.
//!
//! ```
//! use itinera_core::model::{Account, Opportunity, Stage};
//! use itinera_core::reports::AccountSummary;
//!
//! let mut account = Account { name: "Lakeside Schools".into(), owner: "sam".into(), ..Default::default() };
//! account.opportunities.insert("o-1".into(), Opportunity { stage: Stage::Proposal, amount_minor: 780_000, ..Default::default() });
//! let summary = AccountSummary::from(&account);
//! assert_eq!(summary.opportunities[0].id, "o-1");
//! assert_eq!(summary.opportunities[0].stage_entered_at, None); // never moved
//! ```

use serde::{Deserialize, Serialize};

use crate::model::{Account, Opportunity, Stage};

/// An account as the pipeline and conversion reports see it: no contacts, notes or activities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountSummary {
    /// The account's name.
    pub name: String,
    /// The owning sales rep's user id.
    pub owner: String,
    /// The sales territory.
    pub territory: String,
    /// Archived, or merged into another account: its opportunities leave the reports.
    pub archived: bool,
    /// Its opportunities, in id order.
    pub opportunities: Vec<OpportunitySummary>,
}

/// One opportunity, with its stage history reduced to two times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpportunitySummary {
    /// The opportunity's id within its account.
    pub id: String,
    /// What is being sold.
    pub name: String,
    /// Where it stands in the pipeline.
    #[serde(with = "crate::reports::stored_text")]
    pub stage: Stage,
    /// The expected value in minor units of `currency`.
    pub amount_minor: i64,
    /// ISO 4217 code of `amount_minor`.
    pub currency: String,
    /// Percent chance of winning, as the rep entered it (reports clamp it to 0–100).
    pub probability: i64,
    /// The rep working it (user id); may be empty, then reports use the account's owner.
    pub owner: String,
    /// Tour ids (catalog keys) the customer is interested in.
    pub tours: Vec<String>,
    /// Why it was lost, once lost.
    pub lost_reason: Option<String>,
    /// Unix ms of the last stage-history entry: when it entered its current stage.
    pub stage_entered_at: Option<i64>,
    /// Unix ms of the first stage-history entry.
    pub created_at: Option<i64>,
    /// Archived on its own (its account may still be active).
    pub archived: bool,
}

impl From<&Account> for AccountSummary {
    fn from(account: &Account) -> Self {
        Self {
            name: account.name.clone(),
            owner: account.owner.clone(),
            territory: account.territory.clone(),
            archived: account.archived_at.is_some() || account.merged_into.is_some(),
            opportunities: account
                .opportunities
                .iter()
                .map(|(id, opportunity)| OpportunitySummary::new(id, opportunity))
                .collect(),
        }
    }
}

impl OpportunitySummary {
    /// The summary of `opportunity`, stored under `id` in its account.
    pub fn new(id: &str, opportunity: &Opportunity) -> Self {
        // The log iterates in key order, and keys begin with the time of the entry.
        let mut history = opportunity.stage_history.iter();
        let first = history.next().map(|(_, change)| change.at);
        let last = history.next_back().map(|(_, change)| change.at).or(first);
        Self {
            id: id.to_owned(),
            name: opportunity.name.clone(),
            stage: opportunity.stage,
            amount_minor: opportunity.amount_minor,
            currency: opportunity.currency.clone(),
            probability: opportunity.probability,
            owner: opportunity.owner.clone(),
            tours: opportunity.tours.iter().map(str::to_owned).collect(),
            lost_reason: opportunity.lost_reason.clone(),
            stage_entered_at: last,
            created_at: first,
            archived: opportunity.archived_at.is_some(),
        }
    }
}
