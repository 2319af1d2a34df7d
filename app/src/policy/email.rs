//! Email addresses typed by people: a light format check (the mail sent to it is the real
//! proof) and the typed-twice confirmation. Runs in the browser and on the server.

use crate::i18n::Msg;

/// Longest address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_LENGTH: usize = 254;

/// Trimmed; the domain in lower case (the local part is the mail server's business).
pub fn normalize_email(email: &str) -> String {
    let email = email.trim();
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => email.to_owned(),
    }
}

/// Something before an `@`, a dotted domain after it, no spaces.
pub fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !email.contains(char::is_whitespace)
        && !domain.contains('@')
        && email.len() <= MAX_EMAIL_LENGTH
}

/// Whether two spellings name the same address (as normalized).
pub fn same_address(a: &str, b: &str) -> bool {
    normalize_email(a).eq_ignore_ascii_case(&normalize_email(b))
}

/// Checks an address and its confirmation; the message says what to fix.
pub fn check_email_pair(email: &str, confirmation: &str) -> Result<(), (Msg, &'static str)> {
    if email.trim().is_empty() {
        return Err((Msg::EmailRequired, "email"));
    }
    if !looks_like_email(&normalize_email(email)) {
        return Err((Msg::EmailInvalid, "email"));
    }
    if !same_address(email, confirmation) {
        return Err((Msg::EmailMismatch, "email_confirmation"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_lightly() {
        assert!(looks_like_email("marie@example.org"));
        assert!(looks_like_email("marie.tremblay+notes@exemple.qc.ca"));
        for bad in [
            "",
            "marie",
            "@example.org",
            "marie@",
            "marie@example",
            "ma rie@example.org",
            "a@b..org",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }

    #[test]
    fn the_confirmation_must_match_ignoring_case_of_the_domain_and_spaces() {
        assert_eq!(
            check_email_pair(" Marie@Example.ORG", "Marie@example.org "),
            Ok(())
        );
        assert_eq!(
            check_email_pair("marie@example.org", "mary@example.org"),
            Err((Msg::EmailMismatch, "email_confirmation"))
        );
        assert_eq!(check_email_pair("", ""), Err((Msg::EmailRequired, "email")));
        assert_eq!(
            check_email_pair("marie", "marie"),
            Err((Msg::EmailInvalid, "email"))
        );
    }
}
