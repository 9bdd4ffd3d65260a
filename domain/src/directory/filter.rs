//! What a directory query may ask for: its order and its filters, validated and
//! normalised once, and turned into one SQL condition and one canonical scope string
//! that binds cursors to them.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

use super::entity::{language, specialty, therapist};
use crate::DomainError;
use crate::limits::{CITY, Length, SEARCH, TAG};

/// Whether a therapist takes new clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepting {
    Accepting,
    NotAccepting,
    ExistingClientsOnly,
    Waitlist,
}

impl Accepting {
    /// Every status, in the order the API documents them.
    pub const ALL: [Self; 4] = [
        Self::Accepting,
        Self::NotAccepting,
        Self::ExistingClientsOnly,
        Self::Waitlist,
    ];

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepting => "accepting",
            Self::NotAccepting => "not_accepting",
            Self::ExistingClientsOnly => "existing_clients_only",
            Self::Waitlist => "waitlist",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

/// How a therapist meets clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Online,
    InPerson,
}

impl Mode {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::InPerson => "in_person",
        }
    }
}

/// The orders the directory offers; the id always breaks ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TherapistOrder {
    /// By name, A to Z (code-point order of the lowercased name).
    #[default]
    Name,
    /// Newest profile first.
    Newest,
}

impl TherapistOrder {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Newest => "newest",
        }
    }
}

/// Filters of a directory query, as the caller gave them (unvalidated).
#[derive(Debug, Clone, Default)]
pub struct TherapistFilter {
    pub specialty: Option<String>,
    pub language: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub organisation: Option<Uuid>,
    pub accepting: Option<Accepting>,
    pub mode: Option<Mode>,
    /// Case-insensitive prefix of the display name.
    pub q: Option<String>,
}

/// Filters after validation and normalisation (lowercase keys, uppercase country).
#[derive(Debug, Clone, Default)]
pub(crate) struct CheckedFilter(TherapistFilter);

impl TherapistFilter {
    pub(crate) fn check(self) -> Result<CheckedFilter, DomainError> {
        Ok(CheckedFilter(Self {
            specialty: self
                .specialty
                .map(|s| code("specialty", &s, TAG))
                .transpose()?,
            language: self
                .language
                .map(|s| code("language", &s, TAG))
                .transpose()?,
            city: self.city.map(|c| text("city", &c, CITY)).transpose()?,
            country: self.country.map(|c| country(&c)).transpose()?,
            organisation: self.organisation,
            accepting: self.accepting,
            mode: self.mode,
            q: self.q.map(|q| text("q", &q, SEARCH)).transpose()?,
        }))
    }
}

/// A lowercase slug such as `anxiety` or `pt-br`, of a length `length` allows.
pub(crate) fn code(
    parameter: &'static str,
    value: &str,
    length: Length,
) -> Result<String, DomainError> {
    let value = value.trim().to_lowercase();
    let valid = length.allows(value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if valid {
        Ok(value)
    } else {
        Err(DomainError::invalid(
            parameter,
            format!(
                "must be {} to {} letters, digits, '-' or '_'",
                length.min, length.max
            ),
        ))
    }
}

/// Lowercased, trimmed free text of a length `length` allows.
fn text(parameter: &'static str, value: &str, length: Length) -> Result<String, DomainError> {
    crate::text::parameter(parameter, value)?;
    let value = value.trim().to_lowercase();
    if !length.allows(value.chars().count()) {
        return Err(DomainError::invalid(parameter, length.requirement()));
    }
    Ok(value)
}

/// An ISO 3166-1 alpha-2 country code, uppercased.
pub(crate) fn country(value: &str) -> Result<String, DomainError> {
    let value = value.trim().to_uppercase();
    if value.len() == 2 && value.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(value)
    } else {
        Err(DomainError::invalid(
            "country",
            "must be a two-letter ISO 3166-1 country code",
        ))
    }
}

impl CheckedFilter {
    /// The canonical form cursors are bound to: equal filters give equal scopes.
    pub(crate) fn scope(&self, order: TherapistOrder) -> String {
        let f = &self.0;
        let organisation = f.organisation.map(|o| o.to_string());
        crate::cursor::scope(&[
            Some("therapists"),
            Some(order.as_str()),
            f.specialty.as_deref(),
            f.language.as_deref(),
            f.city.as_deref(),
            f.country.as_deref(),
            organisation.as_deref(),
            f.accepting.map(Accepting::as_str),
            f.mode.map(Mode::as_str),
            f.q.as_deref(),
        ])
    }

    /// The SQL condition selecting exactly the matching therapists.
    pub(crate) fn condition(&self) -> Condition {
        use therapist::Column as T;
        let f = &self.0;
        let mut all = Condition::all();
        if let Some(specialty) = &f.specialty {
            all = all.add(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(specialty::Entity)
                    .and_where(
                        Expr::col((specialty::Entity, specialty::Column::TherapistId))
                            .equals((therapist::Entity, T::Id)),
                    )
                    .and_where(specialty::Column::Specialty.eq(specialty.as_str()))
                    .to_owned(),
            ));
        }
        if let Some(language) = &f.language {
            all = all.add(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(language::Entity)
                    .and_where(
                        Expr::col((language::Entity, language::Column::TherapistId))
                            .equals((therapist::Entity, T::Id)),
                    )
                    .and_where(language::Column::Language.eq(language.as_str()))
                    .to_owned(),
            ));
        }
        if let Some(city) = &f.city {
            all = all.add(T::CityKey.eq(city.as_str()));
        }
        if let Some(country) = &f.country {
            all = all.add(T::Country.eq(country.as_str()));
        }
        if let Some(organisation) = f.organisation {
            all = all.add(T::OrganisationId.eq(organisation));
        }
        if let Some(accepting) = f.accepting {
            all = all.add(T::Accepting.eq(accepting.as_str()));
        }
        match f.mode {
            Some(Mode::Online) => all = all.add(T::OffersOnline.eq(true)),
            Some(Mode::InPerson) => all = all.add(T::OffersInPerson.eq(true)),
            None => {}
        }
        if let Some(q) = &f.q {
            // A prefix as a range on the code-point-ordered column, so the name index
            // serves it on every backend (LIKE would depend on collation and escaping).
            let mut upper = q.clone();
            upper.push(char::MAX);
            all = all
                .add(T::SortName.gte(q.as_str()))
                .add(T::SortName.lt(upper));
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_filters_share_a_scope_and_different_ones_do_not() {
        let a = TherapistFilter {
            city: Some(" Berlin ".into()),
            ..Default::default()
        };
        let b = TherapistFilter {
            city: Some("berlin".into()),
            ..Default::default()
        };
        let c = TherapistFilter {
            city: Some("bern".into()),
            ..Default::default()
        };
        let scope = |f: TherapistFilter| f.check().expect("valid").scope(TherapistOrder::Name);
        assert_eq!(scope(a.clone()), scope(b));
        assert_ne!(scope(a.clone()), scope(c));
        assert_ne!(
            scope(a.clone()),
            a.check().expect("valid").scope(TherapistOrder::Newest)
        );
    }

    #[test]
    fn values_holding_separators_cannot_pass_for_other_filters() {
        let scope = |f: TherapistFilter| f.check().expect("valid").scope(TherapistOrder::Name);
        // With `|`-joined `key=value` parts these two were one scope.
        let long_city = TherapistFilter {
            city: Some("x|co=|o=|a=|m=|q=b".into()),
            ..Default::default()
        };
        let city_and_search = TherapistFilter {
            city: Some("x".into()),
            q: Some("b|co=|o=|a=|m=|q=".into()),
            ..Default::default()
        };
        assert_ne!(scope(long_city), scope(city_and_search));
        let quoted_search = TherapistFilter {
            q: Some(r#"a","b"#.into()),
            ..Default::default()
        };
        let two_fields = TherapistFilter {
            city: Some("a".into()),
            q: Some("b".into()),
            ..Default::default()
        };
        assert_ne!(scope(quoted_search), scope(two_fields));
        let empty_search = TherapistFilter {
            q: Some(" ".into()),
            ..Default::default()
        };
        // A blank search is refused, so "no q" and "empty q" never meet.
        assert!(empty_search.check().is_err());
    }

    #[test]
    fn malformed_filters_name_their_parameter() {
        let bad = TherapistFilter {
            country: Some("Germany".into()),
            ..Default::default()
        };
        let err = bad.check().expect_err("rejected");
        assert_eq!(err.parameter(), Some("country"));
    }
}
