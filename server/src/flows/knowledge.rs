//! What HR knows about a person, as proof of identity (seed 000): the employee number and
//! PIN, or the names, date of birth and last six digits of the SIN. Shared by forgot
//! username (who matches?) and forgot password (does this person match?).

use std::sync::OnceLock;

use jiff::civil::Date;

use crate::{
    crypto::attributes::{AttributeKind, hash_attribute},
    state::Sesame,
};

/// Longest value looked at in any field.
pub const MAX_FIELD: usize = 100;

/// A hash no value matches, checked when there is nothing to check against, so that
/// unknown people cost the same argon2 work as known ones.
pub fn dummy_hash(sesame: &Sesame, kind: AttributeKind) -> &'static str {
    static PIN: OnceLock<String> = OnceLock::new();
    static SIN: OnceLock<String> = OnceLock::new();
    let (cell, sample) = match kind {
        AttributeKind::Pin => (&PIN, "00000000"),
        AttributeKind::SinLast6 => (&SIN, "000000"),
    };
    cell.get_or_init(|| hash_attribute(&sesame.key, kind, sample).unwrap_or_default())
}

/// A typed field, trimmed and cut to a sane length.
pub fn field(value: &str) -> String {
    value.trim().chars().take(MAX_FIELD).collect()
}

/// `YYYY-MM-DD` (what a date field sends), also accepting `/` or `.` between parts.
pub fn parse_date(text: &str) -> Option<Date> {
    text.trim().replace(['/', '.'], "-").parse::<Date>().ok()
}

/// Employee numbers are compared without case or surrounding spaces.
pub fn same_employee_number(stored: Option<&str>, typed: &str) -> bool {
    stored.is_some_and(|stored| {
        let typed = typed.trim();
        !typed.is_empty() && stored.trim().eq_ignore_ascii_case(typed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_in_the_usual_spellings() {
        let expected = Date::new(1951, 4, 12).ok();
        assert_eq!(parse_date("1951-04-12"), expected);
        assert_eq!(parse_date(" 1951/04/12 "), expected);
        assert_eq!(parse_date("12/04/1951"), None);
    }

    #[test]
    fn employee_numbers_ignore_case_and_spaces() {
        assert!(same_employee_number(Some("E10442"), " e10442 "));
        assert!(!same_employee_number(Some("E10442"), "E10443"));
        assert!(!same_employee_number(None, "E10442"));
        assert!(!same_employee_number(Some(""), ""));
    }
}
