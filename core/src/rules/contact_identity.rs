//! How contact details are compared: e-mail addresses and phone numbers in one normal form.
//!
//! Two phones that create the same person offline rarely type their details the same way
//! (`Mira@Alpine.example `, `+36 1 234 5678`, `0036-1-234-5678`). Duplicates are matched on
//! these normal forms, and contacts store them (emails lower-cased, phones in E.164).
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

/// The normal form of a phone number: its digits, after a `+` if it was written with one or
/// with the `00` international prefix (which becomes `+`); a national number without either is
/// kept as its digits. Spaces, dashes, dots, slashes and brackets are dropped. `None` for
/// fewer than 7 or more than 15 digits (E.164's limit), or for letters (`ext. 12` is not part
/// of a number that can be matched).
pub fn normalise_phone(raw: &str) -> Option<String> {
    let number = raw.trim();
    if number.chars().any(char::is_alphabetic) {
        return None;
    }
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let (international, digits) = if number.starts_with('+') {
        (true, digits.as_str())
    } else if let Some(rest) = digits.strip_prefix("00") {
        (true, rest)
    } else {
        (false, digits.as_str())
    };
    if !(7..=15).contains(&digits.len()) {
        return None;
    }
    Some(if international {
        format!("+{digits}")
    } else {
        digits.to_owned()
    })
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
            Some("+4402079460958".into())
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
