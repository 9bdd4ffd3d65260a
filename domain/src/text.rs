//! What text may hold before it is stored or searched for. A NUL is refused by
//! PostgreSQL (an error mid-statement) and kept by MariaDB and SQLite, so the same
//! input would fail on one backend and be stored on another; control characters are
//! never part of a name, a city or a search. Refusing them here, before any
//! statement, answers every backend the same.

use crate::DomainError;

/// How many lines a text may span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lines {
    /// Names, cities, emails, searches: no control character at all.
    One,
    /// Message bodies and bios: tab, line feed and carriage return too.
    Many,
}

/// Why `value` may not be stored, if it may not.
fn refusal(value: &str, lines: Lines) -> Option<&'static str> {
    let allowed = |c: char| lines == Lines::Many && matches!(c, '\t' | '\n' | '\r');
    value
        .chars()
        .any(|c| c.is_control() && !allowed(c))
        .then_some(match lines {
            Lines::One => "must not contain control characters (such as NUL)",
            Lines::Many => {
                "must not contain control characters (such as NUL) other than tab and line breaks"
            }
        })
}

/// Checks a field of a request body: 422 `validation_failed` naming `field`.
pub(crate) fn field(field: &str, value: &str, lines: Lines) -> Result<(), DomainError> {
    match refusal(value, lines) {
        Some(why) => Err(DomainError::Validation(format!("{field}: {why}"))),
        None => Ok(()),
    }
}

/// Checks a query parameter: 400 `invalid_parameter` naming `parameter`.
pub(crate) fn parameter(parameter: &'static str, value: &str) -> Result<(), DomainError> {
    match refusal(value, Lines::One) {
        Some(why) => Err(DomainError::invalid(parameter, why)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_line_breaks_in_long_text() {
        for bad in ["a\0b", "\u{1}", "a\u{7f}", "\u{85}x"] {
            assert!(refusal(bad, Lines::One).is_some(), "{bad:?}");
            assert!(refusal(bad, Lines::Many).is_some(), "{bad:?}");
        }
        for multiline in ["a\tb", "a\nb", "a\r\nb"] {
            assert!(refusal(multiline, Lines::One).is_some(), "{multiline:?}");
            assert_eq!(refusal(multiline, Lines::Many), None, "{multiline:?}");
        }
        assert_eq!(refusal("Zoë's practice, 5th floor", Lines::One), None);
    }
}
