//! The shape of a login (username) as typed on the sign-in page and by operators.

use serde::{Deserialize, Serialize};

/// Longest login accepted anywhere; longer input is refused before any lookup.
pub const MAX_LOGIN_LENGTH: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoginViolation {
    Empty,
    TooLong,
    /// Only letters, digits and `. _ -` are allowed in a login an operator creates.
    BadCharacters,
}

/// The canonical form logins are stored and compared in: trimmed, lower-case.
pub fn normalize_login(login: &str) -> String {
    login.trim().to_lowercase()
}

/// Checks a login an operator creates (stricter than what sign-in accepts to look up).
pub fn check_new_login(login: &str) -> Result<String, LoginViolation> {
    let login = normalize_login(login);
    if login.is_empty() {
        return Err(LoginViolation::Empty);
    }
    if login.chars().count() > MAX_LOGIN_LENGTH {
        return Err(LoginViolation::TooLong);
    }
    if !login
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(LoginViolation::BadCharacters);
    }
    Ok(login)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_trimmed_and_lowercased() {
        assert_eq!(check_new_login("  MTremblay "), Ok("mtremblay".into()));
        assert_eq!(check_new_login("j.doe-2"), Ok("j.doe-2".into()));
    }

    #[test]
    fn bad_logins_are_refused_with_a_reason() {
        assert_eq!(check_new_login("  "), Err(LoginViolation::Empty));
        assert_eq!(check_new_login("a b"), Err(LoginViolation::BadCharacters));
        assert_eq!(
            check_new_login("x'; DROP TABLE people;--"),
            Err(LoginViolation::BadCharacters)
        );
        assert_eq!(
            check_new_login(&"a".repeat(65)),
            Err(LoginViolation::TooLong)
        );
    }
}
