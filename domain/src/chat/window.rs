//! History windows: which seqs a window covers. Seqs of a conversation are exactly
//! `1..=last_seq` (messages are never removed; a deletion leaves a tombstone), so a
//! window is a seq range read through the `(conversation_id, seq)` key, and whether
//! older or newer messages exist follows from its bounds without a count. The cost of
//! a window does not depend on the length of the conversation.

use sea_orm::sea_query::{Expr, Func};

use super::ChatService;
use crate::DomainError;
use crate::page::PageLimits;

impl ChatService {
    /// Sizes of history windows and message pages: 50 messages by default, 100 at most.
    pub const HISTORY_PAGE: PageLimits = PageLimits {
        default: 50,
        max: 100,
    };
}

/// Where a window sits in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The newest messages.
    Latest,
    /// Messages before this seq.
    Before(i64),
    /// Messages after this seq.
    After(i64),
    /// This message, `older` messages before it and `newer` after it.
    Around { seq: i64, older: i64, newer: i64 },
}

/// A validated window request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRequest {
    pub limit: i64,
    pub anchor: Anchor,
}

/// A window as a client asks for it: `limit` and at most one of `before`, `after`,
/// `around` (with optional `older`/`newer`, which default to an even split of
/// `limit`). Unchecked; [`WindowRequest::new`] checks it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowArgs {
    pub limit: Option<i64>,
    pub before: Option<i64>,
    pub after: Option<i64>,
    pub around: Option<i64>,
    pub older: Option<i64>,
    pub newer: Option<i64>,
}

impl WindowRequest {
    /// Checks `args`: one anchor at most, sizes within [`ChatService::HISTORY_PAGE`].
    pub fn new(args: WindowArgs) -> Result<Self, DomainError> {
        let WindowArgs {
            limit,
            before,
            after,
            around,
            older,
            newer,
        } = args;
        let limits = ChatService::HISTORY_PAGE;
        let max = limits.max as i64;
        let limit = limits.size("limit", limit)? as i64;
        let anchors = [before.is_some(), after.is_some(), around.is_some()];
        if anchors.iter().filter(|given| **given).count() > 1 {
            return Err(DomainError::invalid(
                "before",
                "give at most one of `before`, `after` and `around`",
            ));
        }
        if around.is_none() && (older.is_some() || newer.is_some()) {
            return Err(DomainError::invalid(
                "older",
                "`older` and `newer` only go with `around`",
            ));
        }
        let anchor = match (before, after, around) {
            (Some(seq), _, _) => Anchor::Before(seq_at_least("before", seq, 1)?),
            (_, Some(seq), _) => Anchor::After(seq_at_least("after", seq, 0)?),
            (_, _, Some(seq)) => {
                let seq = seq_at_least("around", seq, 1)?;
                let older = older.map(|n| seq_at_least("older", n, 0)).transpose()?;
                let newer = newer.map(|n| seq_at_least("newer", n, 0)).transpose()?;
                let (older, newer) = match (older, newer) {
                    (Some(o), Some(n)) => (o, n),
                    (Some(o), None) => (o, (limit - 1 - o).max(0)),
                    (None, Some(n)) => ((limit - 1 - n).max(0), n),
                    (None, None) => ((limit - 1) / 2, limit - 1 - (limit - 1) / 2),
                };
                if older + newer + 1 > max {
                    return Err(DomainError::invalid(
                        "older",
                        format!("`older` + `newer` + 1 must be at most {max}"),
                    ));
                }
                Anchor::Around { seq, older, newer }
            }
            _ => Anchor::Latest,
        };
        Ok(Self { limit, anchor })
    }

    /// The inclusive seq range this window covers in a history of `last_seq`
    /// messages (`lo > hi` when it is empty).
    pub(crate) fn range(&self, last_seq: i64) -> (i64, i64) {
        self.bounds(last_seq)
    }

    /// The range's bounds written in `T`: numbers, or expressions over the
    /// conversation's `last_seq` for a read that finds the conversation and its
    /// window in one statement. One rule for both.
    pub(crate) fn bounds<T: SeqArith>(&self, last_seq: T) -> (T, T) {
        let (limit, one) = (self.limit, T::number(1));
        match self.anchor {
            Anchor::Latest => (last_seq.clone().plus(1 - limit).at_least(one), last_seq),
            Anchor::Before(seq) => {
                let hi = T::number(seq.saturating_sub(1)).at_most(last_seq);
                (hi.clone().plus(1 - limit).at_least(one), hi)
            }
            Anchor::After(seq) => (
                T::number(seq.saturating_add(1)),
                T::number(seq.saturating_add(limit)).at_most(last_seq),
            ),
            Anchor::Around { seq, older, newer } => (
                T::number(seq.saturating_sub(older)).at_least(one),
                T::number(seq.saturating_add(newer)).at_most(last_seq),
            ),
        }
    }
}

/// The arithmetic a window's bounds need.
pub(crate) trait SeqArith: Clone {
    fn number(n: i64) -> Self;
    fn plus(self, n: i64) -> Self;
    fn at_least(self, floor: Self) -> Self;
    fn at_most(self, ceiling: Self) -> Self;
}

impl SeqArith for i64 {
    fn number(n: i64) -> Self {
        n
    }
    fn plus(self, n: i64) -> Self {
        self.saturating_add(n)
    }
    fn at_least(self, floor: Self) -> Self {
        self.max(floor)
    }
    fn at_most(self, ceiling: Self) -> Self {
        self.min(ceiling)
    }
}

impl SeqArith for Expr {
    fn number(n: i64) -> Self {
        Expr::val(n)
    }
    fn plus(self, n: i64) -> Self {
        sea_orm::sea_query::ExprTrait::add(self, n)
    }
    fn at_least(self, floor: Self) -> Self {
        Func::greatest([self, floor]).into()
    }
    fn at_most(self, ceiling: Self) -> Self {
        Func::least([self, ceiling]).into()
    }
}

fn seq_at_least(parameter: &'static str, value: i64, min: i64) -> Result<i64, DomainError> {
    if value >= min {
        Ok(value)
    } else {
        Err(DomainError::invalid(
            parameter,
            format!("must be at least {min} (got {value})"),
        ))
    }
}

/// Whether messages exist before and after the range `lo..=hi` of `1..=last_seq`.
pub(crate) fn flags(lo: i64, hi: i64, last_seq: i64) -> (bool, bool) {
    (lo.min(last_seq + 1) > 1, hi < last_seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(before: Option<i64>, after: Option<i64>, around: Option<i64>) -> WindowRequest {
        WindowRequest::new(WindowArgs {
            limit: Some(10),
            before,
            after,
            around,
            ..WindowArgs::default()
        })
        .expect("valid")
    }

    #[test]
    fn windows_cover_the_expected_ranges() {
        assert_eq!(window(None, None, None).range(100), (91, 100));
        assert_eq!(window(None, None, None).range(3), (1, 3));
        assert_eq!(window(Some(50), None, None).range(100), (40, 49));
        assert_eq!(window(Some(5), None, None).range(100), (1, 4));
        assert_eq!(window(None, Some(95), None).range(100), (96, 100));
        assert_eq!(window(None, None, Some(50)).range(100), (46, 55));
        assert_eq!(window(None, None, Some(1)).range(100), (1, 6));
    }

    #[test]
    fn flags_follow_the_bounds() {
        assert_eq!(flags(1, 10, 10), (false, false));
        assert_eq!(flags(2, 10, 10), (true, false));
        assert_eq!(flags(1, 9, 10), (false, true));
        assert_eq!(flags(1, 0, 0), (false, false));
        assert_eq!(flags(11, 10, 10), (true, false));
    }

    #[test]
    fn two_anchors_or_bad_numbers_are_refused() {
        assert!(
            WindowRequest::new(WindowArgs {
                before: Some(5),
                after: Some(3),
                ..WindowArgs::default()
            })
            .is_err()
        );
        assert!(
            WindowRequest::new(WindowArgs {
                limit: Some(0),
                ..WindowArgs::default()
            })
            .is_err()
        );
        assert!(
            WindowRequest::new(WindowArgs {
                limit: Some(101),
                ..WindowArgs::default()
            })
            .is_err()
        );
        assert!(
            WindowRequest::new(WindowArgs {
                before: Some(-1),
                ..WindowArgs::default()
            })
            .is_err()
        );
        assert!(
            WindowRequest::new(WindowArgs {
                around: Some(5),
                older: Some(60),
                newer: Some(60),
                ..WindowArgs::default()
            })
            .is_err()
        );
        assert!(
            WindowRequest::new(WindowArgs {
                before: Some(5),
                older: Some(2),
                ..WindowArgs::default()
            })
            .is_err()
        );
    }
}
