//! How leads become opportunities and opportunities become sales, overall and per campaign.
//!
//! A lead is *qualified* when its status is qualified or converted, or it has been converted
//! (`converted_to` set); *converted* when `converted_to` is set. The lead → opportunity rate is
//! converted leads over all leads (a converted lead became an account with an opportunity).
//! Opportunities are those the pipeline counts (not archived, account not archived or merged),
//! in every stage; the won rate is won over all of them. Rates are fractions (0.25 = 25 %),
//! `None` when there is nothing to divide by.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::Lead;
//! use itinera_core::reports::{Summary, conversion};
//!
//! let converted = Lead { converted_to: Some("acc".into()), ..Default::default() };
//! let summaries = [
//!     (DocumentId::from_bytes([1; 16]), Summary::Lead((&converted).into())),
//!     (DocumentId::from_bytes([2; 16]), Summary::Lead((&Lead::default()).into())),
//! ];
//! assert_eq!(conversion(&summaries).lead_to_opportunity_rate, Some(0.5));
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DocumentId;
use crate::model::{LeadStatus, Stage};
use crate::reports::summary::{CampaignSummary, LeadSummary, Summary};
use crate::reports::summary_index::SummaryIndex;

/// The funnel lead → opportunity → won.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversionReport {
    /// Every lead.
    pub leads: u64,
    /// Leads qualified (or further).
    pub qualified_leads: u64,
    /// Leads converted into an account.
    pub converted_leads: u64,
    /// `converted_leads / leads`.
    pub lead_to_opportunity_rate: Option<f64>,
    /// Opportunities in any stage.
    pub opportunities: u64,
    /// Opportunities won.
    pub won: u64,
    /// Opportunities lost.
    pub lost: u64,
    /// `won / opportunities`.
    pub won_rate: Option<f64>,
    /// Per campaign: every campaign summarised, and any other campaign a lead names.
    pub campaigns: Vec<CampaignConversion>,
}

/// One campaign's reach and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignConversion {
    /// The campaign document id (bare bs58).
    pub campaign: String,
    /// Its name; `None` when leads name a campaign that has no summary.
    pub name: Option<String>,
    /// Contacts and leads it targets.
    pub members: u64,
    /// Responses it logged.
    pub responses: u64,
    /// Leads naming it.
    pub leads: u64,
    /// Of those, leads converted.
    pub converted_leads: u64,
    /// `converted_leads / leads`.
    pub conversion_rate: Option<f64>,
}

impl CampaignConversion {
    /// A campaign that leads name but that has no summary: no name, no reach.
    pub(crate) fn named_by_leads(id: &str) -> Self {
        Self {
            campaign: id.to_owned(),
            name: None,
            members: 0,
            responses: 0,
            leads: 0,
            converted_leads: 0,
            conversion_rate: None,
        }
    }

    /// Campaign `id`'s reach, before any lead is counted.
    pub(crate) fn reached(id: &str, campaign: &CampaignSummary) -> Self {
        Self {
            campaign: id.to_owned(),
            name: Some(campaign.name.clone()),
            members: campaign.members,
            responses: campaign.responses,
            leads: 0,
            converted_leads: 0,
            conversion_rate: None,
        }
    }
}

/// The conversion funnel over `summaries`.
pub fn conversion(summaries: &[(DocumentId, Summary)]) -> ConversionReport {
    let index = SummaryIndex::new(summaries);

    let mut campaigns: BTreeMap<String, CampaignConversion> = index
        .campaigns
        .iter()
        .map(|(id, campaign)| (id.clone(), CampaignConversion::reached(id, campaign)))
        .collect();

    let (mut leads, mut qualified_leads, mut converted_leads) = (0u64, 0u64, 0u64);
    for lead in index.leads.values() {
        leads += 1;
        qualified_leads += u64::from(is_qualified(lead));
        let converted = lead.converted_to.is_some();
        converted_leads += u64::from(converted);
        if let Some(campaign) = &lead.campaign {
            let row = campaigns
                .entry(campaign.clone())
                .or_insert_with(|| CampaignConversion::named_by_leads(campaign));
            row.leads += 1;
            row.converted_leads += u64::from(converted);
        }
    }

    let (mut opportunities, mut won, mut lost) = (0u64, 0u64, 0u64);
    let accounts = index.accounts.values().filter(|account| !account.archived);
    for account in accounts {
        for opportunity in account.opportunities.iter().filter(|o| !o.archived) {
            opportunities += 1;
            won += u64::from(opportunity.stage == Stage::Won);
            lost += u64::from(opportunity.stage == Stage::Lost);
        }
    }

    ConversionReport {
        leads,
        qualified_leads,
        converted_leads,
        lead_to_opportunity_rate: rate(converted_leads, leads),
        opportunities,
        won,
        lost,
        won_rate: rate(won, opportunities),
        campaigns: campaigns
            .into_values()
            .map(|mut row| {
                row.conversion_rate = rate(row.converted_leads, row.leads);
                row
            })
            .collect(),
    }
}

pub(crate) fn is_qualified(lead: &LeadSummary) -> bool {
    matches!(lead.status, LeadStatus::Qualified | LeadStatus::Converted)
        || lead.converted_to.is_some()
}

pub(crate) fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}
