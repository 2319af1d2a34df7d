//! Short secrets an institution gives (a PIN, the last digits of a SIN), stored only as
//! salted slow hashes (DESIGN §4). The input is first peppered with the server key, so a
//! database dump alone cannot be brute-forced even though these secrets are short.
//!
//! The argon2id parameters are light (an import hashes tens of thousands of them) and
//! are written into each PHC string, so they can be raised later without a migration:
//! verification reads them back from the stored hash.

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core},
};

use crate::{
    crypto::tokens::ServerKey,
    error::{Error, Result},
};

/// argon2id memory (KiB), iterations and lanes for attributes: 20,000 hashes (10,000
/// imported rows with a PIN and SIN digits) take about 10 s on two cores
/// (`tests/import_10k.rs` prints the figure).
pub const ATTRIBUTE_MEMORY_KIB: u32 = 2048;
pub const ATTRIBUTE_ITERATIONS: u32 = 1;
pub const ATTRIBUTE_PARALLELISM: u32 = 1;

/// Which secret a hash is of: each kind has its own pepper, so a PIN hash can never
/// match a SIN with the same digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeKind {
    /// A PIN of 4 to 8 digits.
    Pin,
    /// The last 6 digits of the social insurance number.
    SinLast6,
}

impl AttributeKind {
    fn pepper_purpose(self) -> &'static str {
        match self {
            AttributeKind::Pin => "attribute-pin",
            AttributeKind::SinLast6 => "attribute-sin-last6",
        }
    }

    /// The form hashed and compared: the digits only, so `123 456` and `123-456` typed
    /// by a person match `123456` from the HR file. `None` if the value is not of this
    /// kind's shape.
    pub fn normalize(self, value: &str) -> Option<String> {
        let digits: String = value
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let length_ok = match self {
            AttributeKind::Pin => (4..=8).contains(&digits.len()),
            AttributeKind::SinLast6 => digits.len() == 6,
        };
        length_ok.then_some(digits)
    }
}

fn params() -> Result<Params> {
    Params::new(
        ATTRIBUTE_MEMORY_KIB,
        ATTRIBUTE_ITERATIONS,
        ATTRIBUTE_PARALLELISM,
        None,
    )
    .map_err(|e| Error::Hashing(e.to_string()))
}

/// The argon2 input: an HMAC of the normalized value under the server key.
fn peppered(key: &ServerKey, kind: AttributeKind, normalized: &str) -> String {
    key.keyed_hash(kind.pepper_purpose(), normalized)
}

/// Hashes an attribute (PHC string with salt and parameters). CPU-bound: call it from a
/// blocking thread. Refuses a value that is not of the kind's shape.
pub fn hash_attribute(key: &ServerKey, kind: AttributeKind, value: &str) -> Result<String> {
    let normalized = kind
        .normalize(value)
        .ok_or_else(|| Error::Invalid(format!("not a valid {kind:?}")))?;
    let salt = SaltString::generate(&mut rand_core::OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params()?)
        .hash_password(peppered(key, kind, &normalized).as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Hashing(e.to_string()))
}

/// Whether `value` is the attribute hashed in `stored`. False for a malformed value or
/// hash. CPU-bound: call it from a blocking thread.
pub fn verify_attribute(key: &ServerKey, kind: AttributeKind, value: &str, stored: &str) -> bool {
    let Some(normalized) = kind.normalize(value) else {
        return false;
    };
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    // The parameters come from the stored hash, so older hashes keep verifying.
    Argon2::default()
        .verify_password(peppered(key, kind, &normalized).as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ServerKey {
        ServerKey::from_hex(&"ab".repeat(32)).expect("key")
    }

    #[test]
    fn a_pin_verifies_in_any_typed_form_and_nothing_else_does() {
        let hash = hash_attribute(&key(), AttributeKind::Pin, "0427").expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=2048,t=1,p=1$"), "{hash}");
        assert!(!hash.contains("0427"));
        assert!(verify_attribute(&key(), AttributeKind::Pin, "0427", &hash));
        assert!(verify_attribute(
            &key(),
            AttributeKind::Pin,
            " 04 27 ",
            &hash
        ));
        assert!(!verify_attribute(&key(), AttributeKind::Pin, "4270", &hash));
        assert!(!verify_attribute(&key(), AttributeKind::Pin, "427", &hash));
        assert!(!verify_attribute(
            &key(),
            AttributeKind::SinLast6,
            "0427",
            &hash
        ));
        assert!(!verify_attribute(
            &key(),
            AttributeKind::Pin,
            "0427",
            "garbage"
        ));
        let other_key = ServerKey::from_hex(&"cd".repeat(32)).expect("key");
        assert!(!verify_attribute(
            &other_key,
            AttributeKind::Pin,
            "0427",
            &hash
        ));
    }

    #[test]
    fn the_same_digits_hash_differently_each_time_and_per_kind() {
        let a = hash_attribute(&key(), AttributeKind::SinLast6, "123 456").expect("hash");
        let b = hash_attribute(&key(), AttributeKind::SinLast6, "123456").expect("hash");
        assert_ne!(a, b, "salted");
        assert!(verify_attribute(
            &key(),
            AttributeKind::SinLast6,
            "123-456",
            &a
        ));
        assert!(verify_attribute(
            &key(),
            AttributeKind::SinLast6,
            "123456",
            &b
        ));
        let pin = hash_attribute(&key(), AttributeKind::Pin, "123456").expect("hash");
        assert!(!verify_attribute(
            &key(),
            AttributeKind::SinLast6,
            "123456",
            &pin
        ));
    }

    #[test]
    fn shapes_are_checked() {
        assert_eq!(AttributeKind::Pin.normalize("12a4"), None);
        assert_eq!(AttributeKind::Pin.normalize("123"), None);
        assert_eq!(AttributeKind::Pin.normalize("123456789"), None);
        assert_eq!(
            AttributeKind::Pin.normalize("12345678").as_deref(),
            Some("12345678")
        );
        assert_eq!(AttributeKind::SinLast6.normalize("12345"), None);
        assert_eq!(AttributeKind::SinLast6.normalize("١٢٣٤٥٦"), None);
        assert!(hash_attribute(&key(), AttributeKind::Pin, "abcd").is_err());
    }
}
