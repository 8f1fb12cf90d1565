//! What reports need of a campaign: its reach and its cost, as counts.
//!
//! ```
//! use itinera_core::model::Campaign;
//! use itinera_core::reports::CampaignSummary;
//!
//! let campaign = Campaign { name: "Spring mailing".into(), members: ["c-1", "c-2"].into_iter().collect(), ..Default::default() };
//! assert_eq!(CampaignSummary::from(&campaign).members, 2);
//! ```

use serde::{Deserialize, Serialize};

use crate::model::Campaign;

/// A campaign with its member set and response log reduced to counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSummary {
    /// The campaign's name.
    pub name: String,
    /// How many contacts and leads it targets.
    pub members: u64,
    /// How many responses it logged.
    pub responses: u64,
    /// Its budget in minor units of `currency`.
    pub budget_minor: i64,
    /// ISO 4217 code of the budget.
    pub currency: String,
}

impl From<&Campaign> for CampaignSummary {
    fn from(campaign: &Campaign) -> Self {
        Self {
            name: campaign.name.clone(),
            members: count(campaign.members.len()),
            responses: count(campaign.responses.len()),
            budget_minor: campaign.budget_minor,
            currency: campaign.currency.clone(),
        }
    }
}

fn count(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}
