//! The password policy of the seeds (DESIGN §4): at least 14 characters with a digit, a
//! special character, an upper- and a lower-case letter; at most 256 characters, never
//! truncated; pasting allowed. The character rules run in the browser as the person types;
//! the guessability rule (common and breached passwords, strength estimate) needs a large
//! dictionary and runs on the server only, so the phone does not download it.

use serde::{Deserialize, Serialize};

/// The institution's password rules (from configuration; the defaults are the seeds').
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub require_digit: bool,
    pub require_special: bool,
    pub require_upper: bool,
    pub require_lower: bool,
    /// Minimum zxcvbn score (0–4) on the server; 0 turns the estimate off.
    pub min_strength: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 14,
            max_length: 256,
            require_digit: true,
            require_special: true,
            require_upper: true,
            require_lower: true,
            min_strength: 3,
        }
    }
}

/// One rule of the policy, as shown in the checklist and named in a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PasswordRule {
    MinLength,
    MaxLength,
    Digit,
    Special,
    Upper,
    Lower,
    /// Not a common or breached password, not built from the person's own names, and hard
    /// enough to guess. Checked on the server.
    NotGuessable,
}

/// Whether a rule is met by the password typed so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleStatus {
    pub rule: PasswordRule,
    pub met: bool,
}

/// The form a password is hashed and counted in: Unicode NFC, so the same password typed
/// on two keyboards gives the same hash. Nothing is trimmed or truncated.
#[cfg(feature = "ssr")]
pub fn normalize(password: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    password.nfc().collect()
}

/// In the browser the text is counted as typed: the normalization tables would weigh
/// on every phone, and keyboards produce composed characters anyway. The server, which
/// decides, normalizes.
#[cfg(not(feature = "ssr"))]
pub fn normalize(password: &str) -> String {
    password.to_owned()
}

impl PasswordPolicy {
    /// The character rules this policy enforces, in checklist order.
    pub fn character_rules(&self) -> Vec<PasswordRule> {
        let mut rules = vec![PasswordRule::MinLength];
        if self.require_lower {
            rules.push(PasswordRule::Lower);
        }
        if self.require_upper {
            rules.push(PasswordRule::Upper);
        }
        if self.require_digit {
            rules.push(PasswordRule::Digit);
        }
        if self.require_special {
            rules.push(PasswordRule::Special);
        }
        rules
    }

    /// Checks the character rules (browser and server). `MaxLength` is reported only when
    /// broken, so the checklist does not show a rule nobody meets by accident.
    pub fn check_characters(&self, password: &str) -> Vec<RuleStatus> {
        let password = normalize(password);
        let length = password.chars().count();
        let mut statuses: Vec<RuleStatus> = self
            .character_rules()
            .into_iter()
            .map(|rule| RuleStatus {
                rule,
                met: match rule {
                    PasswordRule::MinLength => length >= self.min_length,
                    PasswordRule::Lower => password.chars().any(char::is_lowercase),
                    PasswordRule::Upper => password.chars().any(char::is_uppercase),
                    PasswordRule::Digit => password.chars().any(|c| c.is_numeric()),
                    PasswordRule::Special => password.chars().any(is_special),
                    PasswordRule::MaxLength | PasswordRule::NotGuessable => true,
                },
            })
            .collect();
        if length > self.max_length {
            statuses.push(RuleStatus {
                rule: PasswordRule::MaxLength,
                met: false,
            });
        }
        statuses
    }

    /// The broken character rules, empty when the password passes them all.
    pub fn character_violations(&self, password: &str) -> Vec<PasswordRule> {
        self.check_characters(password)
            .into_iter()
            .filter(|s| !s.met)
            .map(|s| s.rule)
            .collect()
    }
}

/// Anything that is neither a letter nor a digit counts as special, spaces included
/// (NIST SP 800-63B: all printable characters and spaces are allowed).
fn is_special(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_control()
}

#[cfg(feature = "ssr")]
mod strength {
    use super::*;

    impl PasswordPolicy {
        /// Every violation, the server's full check: the character rules, then whether the
        /// password is common, breached or built from the person's own details
        /// (`personal` holds their login, names and the institution's name).
        pub fn violations(&self, password: &str, personal: &[&str]) -> Vec<PasswordRule> {
            let mut broken = self.character_violations(password);
            if broken.is_empty() && self.min_strength > 0 && self.is_guessable(password, personal) {
                broken.push(PasswordRule::NotGuessable);
            }
            broken
        }

        fn is_guessable(&self, password: &str, personal: &[&str]) -> bool {
            let password = normalize(password);
            let lowered = password.to_lowercase();
            if personal
                .iter()
                .map(|p| p.trim().to_lowercase())
                .any(|p| p.chars().count() >= 4 && lowered.contains(&p))
            {
                return true;
            }
            // zxcvbn's cost grows with length; past 100 characters a password is long enough.
            if password.chars().count() > 100 {
                return false;
            }
            let estimate = zxcvbn::zxcvbn(&password, personal);
            (estimate.score() as u8) < self.min_strength
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmet(policy: &PasswordPolicy, password: &str) -> Vec<PasswordRule> {
        policy.character_violations(password)
    }

    #[test]
    fn the_seed_rule_needs_fourteen_characters_and_four_classes() {
        let policy = PasswordPolicy::default();
        assert_eq!(unmet(&policy, "Abcdefgh1234!x"), vec![]);
        assert_eq!(
            unmet(&policy, "Abcdefgh123!x"),
            vec![PasswordRule::MinLength]
        );
        assert_eq!(unmet(&policy, "abcdefgh1234!x"), vec![PasswordRule::Upper]);
        assert_eq!(unmet(&policy, "ABCDEFGH1234!X"), vec![PasswordRule::Lower]);
        assert_eq!(unmet(&policy, "Abcdefghijkl!x"), vec![PasswordRule::Digit]);
        assert_eq!(
            unmet(&policy, "Abcdefgh12345x"),
            vec![PasswordRule::Special]
        );
    }

    #[test]
    fn length_counts_characters_not_bytes_and_never_truncates() {
        let policy = PasswordPolicy::default();
        // 14 characters, 20+ bytes.
        assert_eq!(unmet(&policy, "Éléphant-été1Ç"), vec![]);
        let at_limit = format!("Aa1!{}", "x".repeat(252));
        assert_eq!(at_limit.chars().count(), 256);
        assert_eq!(unmet(&policy, &at_limit), vec![]);
        let over = format!("{at_limit}y");
        assert_eq!(unmet(&policy, &over), vec![PasswordRule::MaxLength]);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn composed_and_decomposed_accents_count_the_same() {
        let composed = "Crème-brûlée-42X";
        let decomposed = "Cre\u{300}me-bru\u{302}le\u{301}e-42X";
        assert_eq!(normalize(composed), normalize(decomposed));
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.check_characters(composed),
            policy.check_characters(decomposed)
        );
    }

    #[test]
    fn a_space_is_a_special_character() {
        let policy = PasswordPolicy::default();
        assert_eq!(unmet(&policy, "Correct horse 9 Battery"), vec![]);
    }

    #[test]
    fn a_relaxed_policy_drops_rules_from_the_checklist() {
        let policy = PasswordPolicy {
            require_special: false,
            min_length: 8,
            ..Default::default()
        };
        assert!(!policy.character_rules().contains(&PasswordRule::Special));
        assert_eq!(unmet(&policy, "Abcdefg1"), vec![]);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn common_and_personal_passwords_are_refused_on_the_server() {
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.violations("Password1234!!", &[]),
            vec![PasswordRule::NotGuessable]
        );
        assert_eq!(
            policy.violations("Tremblay-2024-Xy!", &["mtremblay", "Marie", "Tremblay"]),
            vec![PasswordRule::NotGuessable]
        );
        assert_eq!(
            policy.violations("Vélo-rouge;Marmotte-93", &["mtremblay"]),
            vec![]
        );
    }
}
