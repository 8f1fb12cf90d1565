//! The conversion report as running totals: lead and opportunity counts, and each campaign's
//! figures with its leads counted.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::Lead;
//! use itinera_core::reports::{Aggregate, ConversionTotals, Summary};
//!
//! let mut totals = ConversionTotals::default();
//! let lead = Summary::Lead((&Lead { converted_to: Some("acc".into()), ..Default::default() }).into());
//! totals.add(DocumentId::from_bytes([1; 16]), &lead);
//! assert_eq!(totals.report(0, &()).converted_leads, 1);
//! ```

use std::collections::BTreeMap;

use crate::DocumentId;
use crate::model::Stage;
use crate::reports::aggregate::{Aggregate, step};
use crate::reports::conversion::{is_qualified, rate};
use crate::reports::reference::key;
use crate::reports::summary::{AccountSummary, CampaignSummary, LeadSummary};
use crate::reports::{CampaignConversion, ConversionReport, Summary};

/// Running totals of [`crate::reports::conversion`].
#[derive(Debug, Clone, Default)]
pub struct ConversionTotals {
    leads: u64,
    qualified_leads: u64,
    converted_leads: u64,
    opportunities: u64,
    won: u64,
    lost: u64,
    /// Campaign documents by bare id: a row each.
    campaigns: BTreeMap<String, CampaignSummary>,
    /// Leads and converted leads per campaign a lead names (a row even without a document).
    campaign_leads: BTreeMap<String, (u64, u64)>,
}

impl ConversionTotals {
    fn count_lead(&mut self, lead: &LeadSummary, adding: bool) {
        let converted = u64::from(lead.converted_to.is_some());
        let qualified = u64::from(is_qualified(lead));
        step(&mut self.leads, 1, adding);
        step(&mut self.qualified_leads, qualified, adding);
        step(&mut self.converted_leads, converted, adding);
        let Some(campaign) = &lead.campaign else {
            return;
        };
        if adding {
            let (leads, converted_leads) = self.campaign_leads.entry(campaign.clone()).or_default();
            *leads += 1;
            *converted_leads += converted;
        } else if let Some((leads, converted_leads)) = self.campaign_leads.get_mut(campaign) {
            *leads = leads.saturating_sub(1);
            *converted_leads = converted_leads.saturating_sub(converted);
            if *leads == 0 {
                self.campaign_leads.remove(campaign);
            }
        }
    }

    fn count_opportunities(&mut self, account: &AccountSummary, adding: bool) {
        if account.archived {
            return;
        }
        for opportunity in account.opportunities.iter().filter(|o| !o.archived) {
            let won = u64::from(opportunity.stage == Stage::Won);
            let lost = u64::from(opportunity.stage == Stage::Lost);
            step(&mut self.opportunities, 1, adding);
            step(&mut self.won, won, adding);
            step(&mut self.lost, lost, adding);
        }
    }

    fn put_summary(&mut self, id: DocumentId, summary: &Summary, adding: bool) {
        match summary {
            Summary::Lead(lead) => self.count_lead(lead, adding),
            Summary::Account(account) => self.count_opportunities(account, adding),
            Summary::Campaign(campaign) if adding => {
                self.campaigns.insert(key(&id), campaign.clone());
            }
            Summary::Campaign(_) => {
                self.campaigns.remove(&key(&id));
            }
            _ => {}
        }
    }
}

impl Aggregate for ConversionTotals {
    type Report = ConversionReport;
    type Options = ();

    fn add(&mut self, id: DocumentId, summary: &Summary) {
        self.put_summary(id, summary, true);
    }

    fn remove(&mut self, id: DocumentId, summary: &Summary) {
        self.put_summary(id, summary, false);
    }

    fn report(&self, _now_ms: i64, _: &()) -> ConversionReport {
        let mut campaigns: BTreeMap<&str, CampaignConversion> = self
            .campaigns
            .iter()
            .map(|(id, campaign)| (id.as_str(), CampaignConversion::reached(id, campaign)))
            .collect();
        for (campaign, (leads, converted_leads)) in &self.campaign_leads {
            let row = campaigns
                .entry(campaign.as_str())
                .or_insert_with(|| CampaignConversion::named_by_leads(campaign));
            row.leads = *leads;
            row.converted_leads = *converted_leads;
            row.conversion_rate = rate(*converted_leads, *leads);
        }
        ConversionReport {
            leads: self.leads,
            qualified_leads: self.qualified_leads,
            converted_leads: self.converted_leads,
            lead_to_opportunity_rate: rate(self.converted_leads, self.leads),
            opportunities: self.opportunities,
            won: self.won,
            lost: self.lost,
            won_rate: rate(self.won, self.opportunities),
            campaigns: campaigns.into_values().collect(),
        }
    }
}
