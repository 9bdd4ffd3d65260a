//! Keyset pagination, one way for every list: a door passes the client's page
//! arguments (`PageArgs`) to the service that owns the list; the service names its
//! limits, its cursor scope and its key, and the `Pager` checks the arguments, opens
//! the cursor, reads the rows and seals the cursors of the page it answers. Lists
//! never use OFFSET: a page costs the same at any depth.

mod keyset;
mod pager;
mod request;

pub(crate) use keyset::Keyset;
pub(crate) use pager::{Pager, Position, Rows};
pub(crate) use request::PageRequest;
pub use request::{Direction, PageArgs, PageLimits};

/// The limits of the directory, account, audit and conversation lists.
pub const LIST_LIMITS: PageLimits = PageLimits {
    default: 20,
    max: 100,
};

/// One page of a list, in the list's declared order whichever way it was walked.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// With `PageRequest::each_cursor`, `cursors[i]` continues the list from
    /// `items[i]`; otherwise only the first and the last item's cursors are here.
    pub cursors: Vec<String>,
    /// Rows exist after the last item.
    pub has_next: bool,
    /// Rows exist before the first item.
    pub has_prev: bool,
}

impl<T> Page<T> {
    /// Cursor of the first item, to page backward from.
    pub fn start_cursor(&self) -> Option<&str> {
        self.cursors.first().map(String::as_str)
    }

    /// Cursor of the last item, to page forward from.
    pub fn end_cursor(&self) -> Option<&str> {
        self.cursors.last().map(String::as_str)
    }

    /// The same page with every item converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            cursors: self.cursors,
            has_next: self.has_next,
            has_prev: self.has_prev,
        }
    }

    /// The same page with each item converted, or the first conversion's error.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            cursors: self.cursors,
            has_next: self.has_next,
            has_prev: self.has_prev,
        })
    }
}
