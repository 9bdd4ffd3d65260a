//! The copy of a therapist's tags kept on the therapist row: the one spelling of a
//! tag list in a column, for every writer and the reader.

use std::borrow::Borrow;

/// `tags` (checked slugs, already sorted and deduplicated) as one column value. Slugs
/// never contain the comma that joins them.
pub(crate) fn joined<T: Borrow<str>>(tags: &[T]) -> String {
    tags.join(",")
}

/// A column value back as the list it was written from; `''` is no tags.
pub(crate) fn split(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|tag| !tag.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_survives_the_column() {
        for tags in [vec![], vec!["anxiety"], vec!["anxiety", "grief", "ocd"]] {
            assert_eq!(split(&joined(&tags)), tags);
        }
        assert_eq!(joined::<&str>(&[]), "");
    }
}
