//! Random identifiers and keyed hashes. Tokens and codes are stored only as HMAC-SHA256
//! under the server key, so a database dump reveals none of them.

use std::path::Path;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// `bytes` random bytes from the OS generator, hex-encoded.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A 256-bit random token, URL-safe (session cookies, links).
pub fn random_token() -> String {
    let mut buf = [0u8; 32];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The server's secret key. `Debug` never shows it.
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(<redacted>)")
    }
}

impl ServerKey {
    /// Reads the key file, creating it with a fresh random key (mode 0600) if absent.
    pub fn load_or_create(path: &Path) -> Result<ServerKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => ServerKey::from_hex(text.trim()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)?;
                }
                let hex_key = random_hex(32);
                write_private(path, &hex_key)?;
                ServerKey::from_hex(&hex_key)
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn from_hex(text: &str) -> Result<ServerKey> {
        let bytes = hex::decode(text)
            .map_err(|_| Error::Invalid("the secret key file must hold 64 hex digits".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::Invalid("the secret key file must hold 64 hex digits".into()))?;
        Ok(ServerKey(key))
    }

    /// HMAC-SHA256 of `value` for one `purpose` (so a hash for one use is useless for
    /// another), hex-encoded.
    pub fn keyed_hash(&self, purpose: &str, value: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A 256-bit key for one `purpose`, derived from the server key (HMAC-SHA256).
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(b"derived-key");
        mac.update(&[0]);
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The CSRF token of a browser: derived from its device id, so nothing is stored.
    pub fn csrf_token(&self, device_id: &str) -> String {
        self.keyed_hash("csrf", device_id)
    }

    pub fn csrf_token_is_valid(&self, device_id: &str, token: &str) -> bool {
        let expected = self.csrf_token(device_id);
        expected.as_bytes().ct_eq(token.as_bytes()).into()
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_hashes_depend_on_key_purpose_and_value() {
        let a = ServerKey([1; 32]);
        let b = ServerKey([2; 32]);
        assert_eq!(a.keyed_hash("session", "x"), a.keyed_hash("session", "x"));
        assert_ne!(a.keyed_hash("session", "x"), b.keyed_hash("session", "x"));
        assert_ne!(a.keyed_hash("session", "x"), a.keyed_hash("csrf", "x"));
        assert_ne!(a.keyed_hash("session", "x"), a.keyed_hash("session", "y"));
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_device() {
        let key = ServerKey([7; 32]);
        let token = key.csrf_token("device-1");
        assert!(key.csrf_token_is_valid("device-1", &token));
        assert!(!key.csrf_token_is_valid("device-2", &token));
        assert!(!key.csrf_token_is_valid("device-1", ""));
    }

    #[test]
    fn the_key_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/secret.key");
        let first = ServerKey::load_or_create(&path).expect("created");
        let second = ServerKey::load_or_create(&path).expect("read");
        assert_eq!(first.keyed_hash("t", "v"), second.keyed_hash("t", "v"));
        assert_eq!(format!("{first:?}"), "ServerKey(<redacted>)");
    }

    #[test]
    fn random_tokens_are_long_and_distinct() {
        let a = random_token();
        assert!(a.len() >= 43);
        assert_ne!(a, random_token());
        assert_eq!(random_hex(16).len(), 32);
    }
}
