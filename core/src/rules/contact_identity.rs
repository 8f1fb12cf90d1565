//! How contact details are compared: e-mail addresses and phone numbers in one normal form.
//!
//! Two phones that create the same person offline rarely type their details the same way
//! (`Mira@Alpine.example `, `+36 1 234 5678`, `0036-1-234-5678`, `06 1 234 5678`). Duplicates
//! are matched on these normal forms, and contacts store them (emails lower-cased, phones in
//! E.164 through libphonenumber's metadata, the `phonenumber` crate: national numbers need the
//! company's default region, which the server knows and a phone may not).
//!
//! ```
//! use itinera_core::rules::{normalise_email, normalise_phone};
//!
//! assert_eq!(normalise_email(" Mira@Alpine.Example "), Some("mira@alpine.example".into()));
//! assert_eq!(normalise_phone("0036 (1) 234-5678"), Some("+3612345678".into()));
//! assert_eq!(normalise_phone("+36 1 234 5678"), normalise_phone("0036 1 234 5678"));
//! ```

/// The normal form of an e-mail address: trimmed and lower-cased, with exactly one `@`, text
/// on both sides and no whitespace inside; `None` for anything else.
pub fn normalise_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let valid = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace);
    valid.then_some(email)
}

/// A phone number in E.164 (`+36301234567`), as far as it can be known without a region:
/// numbers written with their country code (`+`, or `00`) are parsed with libphonenumber's
/// metadata, so a trunk `(0)` is dropped (`+44 (0)20 7946 0958` is `+442079460958`); a national
/// number (`06 30 123 4567`) keeps its digits until [`normalise_phone_in`] knows the region.
/// `None` for text that is not a phone number (letters, an extension, too few or too many
/// digits).
pub fn normalise_phone(raw: &str) -> Option<String> {
    normalise_phone_in(raw, None)
}

/// [`normalise_phone`] with the company's default region (ISO 3166 code, `HU`), which a
/// national number is read in: `06 30 123 4567` and `+36 30 123 4567` are the same number.
pub fn normalise_phone_in(raw: &str, default_region: Option<&str>) -> Option<String> {
    let number = raw.trim();
    if number.chars().any(char::is_alphabetic) {
        return None;
    }
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let international = number.starts_with('+') || digits.starts_with("00");
    let significant = if number.starts_with('+') {
        digits.as_str()
    } else {
        digits.strip_prefix("00").unwrap_or(&digits)
    };
    if !(7..=15).contains(&significant.len()) {
        return None;
    }
    let region = default_region.and_then(|code| code.trim().to_uppercase().parse().ok());
    if international || region.is_some() {
        // `+44 (0)20 …`: the bracketed trunk zero is dialled at home only.
        let text = number.replacen("(0)", "", 1);
        let text = match text.trim_start().strip_prefix("00") {
            Some(rest) => format!("+{rest}"),
            None => text,
        };
        if let Some(e164) = e164(region, &text) {
            return Some(e164);
        }
    }
    Some(if international {
        format!("+{significant}")
    } else {
        digits
    })
}

/// The E.164 form of `text` as libphonenumber reads it, if it is a valid number.
fn e164(region: Option<phonenumber::country::Id>, text: &str) -> Option<String> {
    let parsed = phonenumber::parse(region, text).ok()?;
    phonenumber::is_valid(&parsed)
        .then(|| parsed.format().mode(phonenumber::Mode::E164).to_string())
}

/// A person's full name for comparison: trimmed, lower-cased, inner whitespace collapsed;
/// `None` unless both first and last name are given.
pub(crate) fn normalise_name(first: &str, last: &str) -> Option<String> {
    let part = |text: &str| {
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let (first, last) = (part(first), part(last));
    (!first.is_empty() && !last.is_empty()).then(|| format!("{first} {last}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_one_at_with_text_around_it() {
        assert_eq!(normalise_email("A@B"), Some("a@b".into()));
        for bad in [
            "",
            "   ",
            "mira",
            "@alpine.example",
            "mira@",
            "a@b@c",
            "mi ra@alpine.example",
        ] {
            assert_eq!(normalise_email(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn phones_keep_their_prefix_or_lack_of_one() {
        assert_eq!(
            normalise_phone("+36 1 234 5678"),
            Some("+3612345678".into())
        );
        assert_eq!(
            normalise_phone("0036 1 234 5678"),
            Some("+3612345678".into())
        );
        assert_eq!(
            normalise_phone(" +44 (0)20 7946.0958 "),
            Some("+442079460958".into())
        );
        assert_eq!(
            normalise_phone("06 30 123 4567"),
            Some("06301234567".into())
        );
        assert_eq!(normalise_phone("1234567"), Some("1234567".into()));
        assert_eq!(normalise_phone("123456"), None);
        assert_eq!(normalise_phone("+1234567890123456"), None);
        assert_eq!(normalise_phone("00 123456"), None);
        assert_eq!(normalise_phone("+36 1 234 5678 ext 9"), None);
        assert_eq!(normalise_phone(""), None);
    }

    #[test]
    fn a_national_number_is_read_in_the_default_region() {
        let hu = Some("HU");
        assert_eq!(
            normalise_phone_in("06 30 123 4567", hu),
            Some("+36301234567".into())
        );
        assert_eq!(
            normalise_phone_in("+36 30 123 4567", hu),
            normalise_phone_in("06 30 123 4567", hu)
        );
        assert_eq!(
            normalise_phone_in("+44 (0)20 7946 0958", hu),
            Some("+442079460958".into())
        );
        assert_eq!(
            normalise_phone_in("020 7946 0958", Some("gb")),
            Some("+442079460958".into())
        );
    }

    #[test]
    fn names_compare_without_case_or_spacing() {
        assert_eq!(
            normalise_name(" Mira ", "Kovács  Nagy"),
            Some("mira kovács nagy".into())
        );
        assert_eq!(
            normalise_name("MIRA", "KOVÁCS"),
            normalise_name("mira", "kovács")
        );
        assert_eq!(normalise_name("Mira", " "), None);
    }
}
