//! Merging a duplicate contact into its survivor, once office confirms a
//! [`super::DuplicateProposal`].
//!
//! Nothing is deleted: the duplicate stays, archived, with `merged_into` naming the survivor, so
//! bookings, tickets and activities on other documents that name it still lead somewhere.
//!
//! ```
//! use itinera_core::model::{Account, Contact};
//! use itinera_core::rules::merge_contacts;
//!
//! let mut account = Account::default();
//! account.contacts.insert("c-1".into(), Contact { first_name: "Mira".into(), ..Default::default() });
//! account.contacts.insert("c-2".into(), Contact { title: "Head teacher".into(), ..Default::default() });
//! merge_contacts(&mut account, "c-1", "c-2", 1_000)?;
//! assert_eq!(account.contacts["c-1"].title, "Head teacher");
//! assert_eq!(account.contacts["c-2"].merged_into.as_deref(), Some("c-1"));
//! assert_eq!(account.contacts["c-2"].archived_at, Some(1_000));
//! # Ok::<(), itinera_core::model::ModelError>(())
//! ```

use crate::model::{Account, LogKey, ModelError};

/// Merges contact `duplicate` of `account` into `survivor` at `at` (Unix ms).
///
/// The survivor's non-empty names, title and language stay; the duplicate fills the empty
/// ones. E-mail addresses, phones and preferences are united, and so are the consent logs (the
/// duplicate's events are copied under keys of their own time and origin, so the consent
/// history stays in time order). Activities related to the duplicate now name the survivor.
/// The duplicate gets `merged_into` and, unless already archived, `archived_at = at`.
///
/// Running the same merge again changes nothing. Refused when the two are the same contact,
/// either does not exist, the survivor is archived or merged itself, or the duplicate was
/// merged into another contact.
pub fn merge_contacts(
    account: &mut Account,
    survivor: &str,
    duplicate: &str,
    at: i64,
) -> Result<(), ModelError> {
    if survivor == duplicate {
        return Err(ModelError::Invalid(format!(
            "contact {survivor} cannot be merged into itself"
        )));
    }
    let source = account
        .contacts
        .get(duplicate)
        .ok_or_else(|| ModelError::NotFound(format!("contact {duplicate}")))?
        .clone();
    if let Some(other) = source
        .merged_into
        .as_deref()
        .filter(|other| *other != survivor)
    {
        return Err(ModelError::Invalid(format!(
            "contact {duplicate} was already merged into {other}"
        )));
    }
    let target = account
        .contacts
        .get_mut(survivor)
        .ok_or_else(|| ModelError::NotFound(format!("contact {survivor}")))?;
    if target.archived_at.is_some() || target.merged_into.is_some() {
        return Err(ModelError::Invalid(format!(
            "contact {survivor} is archived and cannot take in {duplicate}"
        )));
    }

    for (field, from) in [
        (&mut target.first_name, &source.first_name),
        (&mut target.last_name, &source.last_name),
        (&mut target.title, &source.title),
        (&mut target.language, &source.language),
    ] {
        if field.trim().is_empty() && !from.trim().is_empty() {
            field.clone_from(from);
        }
    }
    for email in source.emails.iter() {
        target.emails.insert(email);
    }
    for phone in source.phones.iter() {
        target.phones.insert(phone);
    }
    for preference in source.preferences.iter() {
        target.preferences.insert(preference);
    }
    for (key, event) in source.consent.iter() {
        let copied = LogKey::new(event.at, &format!("{duplicate}~{key}"));
        if target.consent.get(copied.as_str()).is_none() {
            target.consent.append(copied, event.clone())?;
        }
    }

    let moved: Vec<String> = account
        .activities
        .iter()
        .filter(|(_, activity)| activity.related.as_deref() == Some(duplicate))
        .map(|(key, _)| key.to_owned())
        .collect();
    for key in moved {
        if let Some(activity) = account.activities.get_mut(&key) {
            activity.related = Some(survivor.to_owned());
        }
    }

    if let Some(merged) = account.contacts.get_mut(duplicate) {
        merged.merged_into = Some(survivor.to_owned());
        merged.archived_at.get_or_insert(at);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConsentEvent, Contact};

    fn account_with(ids: &[&str]) -> Account {
        let mut account = Account::default();
        for id in ids {
            account.contacts.insert((*id).into(), Contact::default());
        }
        account
    }

    #[test]
    fn refuses_what_cannot_be_merged() {
        let mut account = account_with(&["c-1", "c-2", "c-3"]);
        assert!(matches!(
            merge_contacts(&mut account, "c-1", "c-1", 1),
            Err(ModelError::Invalid(_))
        ));
        assert!(matches!(
            merge_contacts(&mut account, "c-1", "c-9", 1),
            Err(ModelError::NotFound(_))
        ));
        assert!(matches!(
            merge_contacts(&mut account, "c-9", "c-1", 1),
            Err(ModelError::NotFound(_))
        ));
        merge_contacts(&mut account, "c-1", "c-2", 1).expect("first merge");
        assert!(matches!(
            merge_contacts(&mut account, "c-3", "c-2", 2),
            Err(ModelError::Invalid(_))
        ));
        assert!(matches!(
            merge_contacts(&mut account, "c-2", "c-3", 2),
            Err(ModelError::Invalid(_))
        ));
    }

    #[test]
    fn merging_again_changes_nothing() {
        let mut account = account_with(&["c-1", "c-2"]);
        if let Some(dup) = account.contacts.get_mut("c-2") {
            dup.consent
                .append(
                    LogKey::new(5, "phone"),
                    ConsentEvent {
                        channel: "email".into(),
                        granted: true,
                        source: "form".into(),
                        at: 5,
                    },
                )
                .expect("append");
        }
        merge_contacts(&mut account, "c-1", "c-2", 10).expect("merge");
        let once = account.clone();
        merge_contacts(&mut account, "c-1", "c-2", 20).expect("merge again");
        assert_eq!(account, once);
        assert_eq!(account.contacts["c-1"].consent.len(), 1);
        assert_eq!(account.contacts["c-2"].archived_at, Some(10));
    }
}
