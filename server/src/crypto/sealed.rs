//! Secrets that must be read back (an authenticator app's key cannot be hashed): sealed
//! with ChaCha20-Poly1305 under a key derived from the server key for one purpose, so a
//! database dump without the key file reveals none of them, and a sealed value moved to
//! another purpose or tampered with does not open.

use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
use chacha20poly1305::{
    ChaCha20Poly1305, Key, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use rand::RngCore;

use super::tokens::ServerKey;
use crate::error::{Error, Result};

const NONCE_LEN: usize = 12;

/// Seals `plain` for `purpose`; `context` (say, the owner's id) must be given again to open.
pub fn seal(key: &ServerKey, purpose: &str, context: &str, plain: &[u8]) -> Result<String> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key.derived_key(purpose)));
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let payload = Payload {
        msg: plain,
        aad: context.as_bytes(),
    };
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), payload)
        .map_err(|_| Error::Invalid("sealing failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(STANDARD_NO_PAD.encode(out))
}

/// Opens what [`seal`] made for the same purpose and context.
pub fn open(key: &ServerKey, purpose: &str, context: &str, sealed: &str) -> Result<Vec<u8>> {
    let bytes = STANDARD_NO_PAD
        .decode(sealed)
        .map_err(|_| Error::Invalid("a sealed value is not base64".into()))?;
    if bytes.len() <= NONCE_LEN {
        return Err(Error::Invalid("a sealed value is too short".into()));
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key.derived_key(purpose)));
    let payload = Payload {
        msg: sealed,
        aad: context.as_bytes(),
    };
    cipher
        .decrypt(Nonce::from_slice(nonce), payload)
        .map_err(|_| Error::Invalid("a sealed value does not open with this key".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> ServerKey {
        ServerKey::from_hex(&hex::encode([byte; 32])).expect("key")
    }

    #[test]
    fn opens_only_with_the_same_key_purpose_and_context() {
        let sealed = seal(&key(1), "totp", "person-1", b"secret").expect("seal");
        assert_eq!(
            open(&key(1), "totp", "person-1", &sealed).expect("open"),
            b"secret"
        );
        assert!(open(&key(2), "totp", "person-1", &sealed).is_err());
        assert!(open(&key(1), "other", "person-1", &sealed).is_err());
        assert!(open(&key(1), "totp", "person-2", &sealed).is_err());
        let again = seal(&key(1), "totp", "person-1", b"secret").expect("seal");
        assert_ne!(sealed, again, "a fresh nonce each time");
        let mut tampered = STANDARD_NO_PAD.decode(&sealed).expect("base64");
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        let tampered = STANDARD_NO_PAD.encode(tampered);
        assert!(open(&key(1), "totp", "person-1", &tampered).is_err());
    }
}
