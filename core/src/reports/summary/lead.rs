//! What reports need of a lead: where it came from and whether it converted.
//!
//! ```
//! use itinera_core::model::{Lead, LeadStatus};
//! use itinera_core::reports::LeadSummary;
//!
//! let lead = Lead { source: "fair".into(), status: LeadStatus::Qualified, ..Default::default() };
//! assert_eq!(LeadSummary::from(&lead).status, LeadStatus::Qualified);
//! ```

use serde::{Deserialize, Serialize};

use crate::model::{Lead, LeadStatus};
use crate::reports::reference::reference;

/// A lead without its contact details or notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadSummary {
    /// Where the lead came from: `web`, `fair`, `referral`…
    pub source: String,
    /// The campaign document id (bare bs58), if it came from one.
    pub campaign: Option<String>,
    /// Where it stands.
    #[serde(with = "crate::reports::stored_text")]
    pub status: LeadStatus,
    /// The rep working it (user id).
    pub owner: String,
    /// The account it became (bare bs58), once converted.
    pub converted_to: Option<String>,
}

impl From<&Lead> for LeadSummary {
    fn from(lead: &Lead) -> Self {
        Self {
            source: lead.source.clone(),
            campaign: lead.campaign.as_deref().map(reference),
            status: lead.status,
            owner: lead.owner.clone(),
            converted_to: lead.converted_to.as_deref().map(reference),
        }
    }
}
