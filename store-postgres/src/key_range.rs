//! The keys that start with a prefix as one range of the key–value table's primary key, so
//! that PostgreSQL scans only them and stops.

/// The smallest text greater than every text that starts with `prefix`, in code point order
/// (the key column's "C" collation); `None` when there is none (an empty prefix, or one of
/// U+10FFFF only), and the range is open-ended.
pub(crate) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = successor(last) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The next scalar value, skipping the surrogates, which are no `char`.
fn successor(c: char) -> Option<char> {
    match c {
        '\u{D7FF}' => Some('\u{E000}'),
        c => char::from_u32(u32::from(c) + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_end_follows_the_last_character_that_has_a_successor() {
        assert_eq!(prefix_end("user:").as_deref(), Some("user;"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("é\u{D7FF}").as_deref(), Some("é\u{E000}"));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("\u{10FFFF}\u{10FFFF}"), None);
    }

    proptest! {
        #[test]
        fn a_key_is_in_the_range_exactly_when_it_starts_with_the_prefix(
            prefix in "[a-c\u{D7FF}\u{E000}\u{10FFFF}]{0,3}",
            rest in "[a-c\u{D7FF}\u{E000}\u{10FFFF}]{0,3}",
            other in "[a-c\u{D7FF}\u{E000}\u{10FFFF}]{0,5}",
        ) {
            let end = prefix_end(&prefix);
            let in_range = |key: &str| {
                key >= prefix.as_str() && end.as_deref().is_none_or(|end| key < end)
            };
            let key = format!("{prefix}{rest}");
            prop_assert!(in_range(&key));
            prop_assert_eq!(in_range(&other), other.starts_with(&prefix));
        }
    }
}
