//! [`Members`]: the set the relations keep per document, which nearly always holds one member
//! (an account's one booking, the one account with an e-mail address, a departure's one field
//! log). One member is kept inline; a `BTreeSet` is only built for a second. At 100,000
//! accounts this is the difference between a tree node (about 400 bytes) per account and
//! nothing beyond the map's own entry.

use std::collections::BTreeSet;

/// A set, in order, that keeps a lone member without allocating.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Members<T: Ord> {
    #[default]
    None,
    One(T),
    Many(BTreeSet<T>),
}

impl<T: Ord> Members<T> {
    /// Adds `member`; false when it was in already.
    pub fn insert(&mut self, member: T) -> bool {
        match std::mem::take(self) {
            Self::None => {
                *self = Self::One(member);
                true
            }
            Self::One(one) if one == member => {
                *self = Self::One(one);
                false
            }
            Self::One(one) => {
                *self = Self::Many(BTreeSet::from([one, member]));
                true
            }
            Self::Many(mut many) => {
                let added = many.insert(member);
                *self = Self::Many(many);
                added
            }
        }
    }

    /// Takes `member` out; false when it was not in.
    pub fn remove(&mut self, member: &T) -> bool {
        match self {
            Self::None => false,
            Self::One(one) if one == member => {
                *self = Self::None;
                true
            }
            Self::One(_) => false,
            Self::Many(many) => {
                let removed = many.remove(member);
                if many.is_empty() {
                    *self = Self::None;
                }
                removed
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Self::None)
    }

    /// The members, in order.
    pub fn iter(&self) -> Iter<'_, T> {
        let (one, many) = match self {
            Self::None => (None, None),
            Self::One(one) => (Some(one), None),
            Self::Many(many) => (None, Some(many)),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

/// The members of a [`Members`], in order.
pub type Iter<'a, T> = std::iter::Chain<
    std::option::IntoIter<&'a T>,
    std::iter::Flatten<std::option::IntoIter<&'a BTreeSet<T>>>,
>;

impl<'a, T: Ord> IntoIterator for &'a Members<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Ord> Extend<T> for Members<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, members: I) {
        for member in members {
            self.insert(member);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_behave_as_an_ordered_set_whether_one_or_many() {
        let mut set = Members::default();
        assert!(set.is_empty());
        assert!(set.insert(5));
        assert!(!set.insert(5), "a member is in once");
        assert_eq!(set, Members::One(5));
        assert!(set.insert(2));
        assert!(set.insert(9));
        assert_eq!(set.iter().copied().collect::<Vec<_>>(), vec![2, 5, 9]);
        assert!(!set.remove(&7));
        assert!(set.remove(&5));
        assert!(set.remove(&2));
        assert_eq!((&set).into_iter().copied().collect::<Vec<_>>(), vec![9]);
        assert!(set.remove(&9));
        assert!(set.is_empty(), "the last member out leaves the set empty");
        assert!(!set.remove(&9));
        set.extend([3, 1, 3]);
        assert_eq!(set.iter().copied().collect::<Vec<_>>(), vec![1, 3]);
    }
}
