//! The bot check's proof of work, shared by the server (which issues and verifies) and the
//! browser (which solves without the person doing anything; WCAG 2.2 3.3.8: no puzzle).
//!
//! A challenge is a token the server signs:
//!
//! ```text
//! v1.<difficulty>.<expires_at>.<nonce>.<signature>
//! ```
//!
//! - `difficulty`: the leading zero bits the solution's hash needs (decimal, 0 to
//!   [`MAX_DIFFICULTY`]);
//! - `expires_at`: Unix seconds (decimal) after which the server refuses it;
//! - `nonce`: 32 lower-case hex digits (128 random bits), the challenge's identity for
//!   single use;
//! - `signature`: 64 lower-case hex digits, HMAC-SHA256 under the server key of everything
//!   before the last dot (only the server checks it).
//!
//! A solution is a `u64` such that SHA-256 of `<the whole token>:<solution in decimal>`
//! starts with at least `difficulty` zero bits. The browser reads the difficulty here and
//! searches in chunks ([`solve`]) so the page stays responsive.

use sha2::{Digest, Sha256};

/// The token format's version, its first field.
pub const VERSION: &str = "v1";

/// The most leading zero bits a challenge may ask for (beyond it a browser would take
/// hours, so a larger value is a forged or broken token).
pub const MAX_DIFFICULTY: u32 = 32;

/// A challenge's public fields, as the token carries them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge<'a> {
    pub difficulty: u32,
    pub expires_at: i64,
    pub nonce: &'a str,
    /// `v1.<difficulty>.<expires_at>.<nonce>`: what the signature covers.
    pub signed_part: &'a str,
    pub signature: &'a str,
}

/// Reads a token's fields; `None` if it is not a well-formed `v1` token. Checks the shape
/// only, never the signature.
pub fn parse(token: &str) -> Option<Challenge<'_>> {
    let (signed_part, signature) = token.rsplit_once('.')?;
    let mut fields = signed_part.split('.');
    let (version, difficulty, expires_at, nonce) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    if version != VERSION || fields.next().is_some() {
        return None;
    }
    let difficulty = parse_decimal(difficulty)
        .and_then(|d| u32::try_from(d).ok())
        .filter(|d| *d <= MAX_DIFFICULTY)?;
    let expires_at = parse_decimal(expires_at).and_then(|e| i64::try_from(e).ok())?;
    let is_hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    if !is_hex(nonce, 32) || !is_hex(signature, 64) {
        return None;
    }
    Some(Challenge {
        difficulty,
        expires_at,
        nonce,
        signed_part,
        signature,
    })
}

/// The difficulty a token asks for, if it is well formed.
pub fn difficulty(token: &str) -> Option<u32> {
    parse(token).map(|c| c.difficulty)
}

/// Plain decimal digits only (no sign, no spaces), so each value has one spelling and a
/// token cannot be altered without changing its signed bytes.
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.len() <= 20
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// Leading zero bits of a hash.
pub fn leading_zero_bits(hash: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in hash {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// Whether `solution` solves `challenge` at `difficulty`.
pub fn is_solution(challenge: &str, solution: u64, difficulty: u32) -> bool {
    let mut hasher = prefix_hasher(challenge);
    hasher.update(decimal(solution, &mut [0; 20]));
    leading_zero_bits(&hasher.finalize()) >= difficulty
}

/// Tries the candidates `start`, `start + 1`... (at most `budget` of them) and answers the
/// first solution, or `None` if the chunk holds none: call again from `start + budget`.
pub fn solve(challenge: &str, difficulty: u32, start: u64, budget: u64) -> Option<u64> {
    // The challenge's blocks are hashed once; each candidate only adds its digits.
    let prefix = prefix_hasher(challenge);
    let mut buffer = [0; 20];
    let end = start.saturating_add(budget);
    (start..end).find(|candidate| {
        let mut hasher = prefix.clone();
        hasher.update(decimal(*candidate, &mut buffer));
        leading_zero_bits(&hasher.finalize()) >= difficulty
    })
}

fn prefix_hasher(challenge: &str) -> Sha256 {
    let mut hasher = Sha256::new();
    hasher.update(challenge.as_bytes());
    hasher.update(b":");
    hasher
}

/// `n` in decimal, written at the end of `buffer` (no allocation in the search loop).
fn decimal(mut n: u64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut at = buffer.len();
    loop {
        at -= 1;
        buffer[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buffer[at..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "v1.8.1795000000.0123456789abcdef0123456789abcdef.\
                         00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn a_token_reads_back() {
        let c = parse(TOKEN).expect("well formed");
        assert_eq!(c.difficulty, 8);
        assert_eq!(c.expires_at, 1_795_000_000);
        assert_eq!(c.nonce, "0123456789abcdef0123456789abcdef");
        assert_eq!(
            c.signed_part,
            "v1.8.1795000000.0123456789abcdef0123456789abcdef"
        );
        assert_eq!(difficulty(TOKEN), Some(8));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let sig = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let nonce = "0123456789abcdef0123456789abcdef";
        for bad in [
            String::new(),
            "v1".into(),
            format!("v2.8.1795000000.{nonce}.{sig}"),
            format!("v1.08.1795000000.{nonce}.{sig}"),
            format!("v1.+8.1795000000.{nonce}.{sig}"),
            format!("v1.33.1795000000.{nonce}.{sig}"),
            format!("v1.8.-1.{nonce}.{sig}"),
            format!("v1.8.1795000000.{}.{sig}", &nonce[1..]),
            format!("v1.8.1795000000.{}.{sig}", nonce.to_uppercase()),
            format!("v1.8.1795000000.{nonce}.{}", &sig[2..]),
            format!("v1.8.1795000000.x.{nonce}.{sig}"),
        ] {
            assert_eq!(parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn leading_zero_bits_count_across_bytes() {
        assert_eq!(leading_zero_bits(&[]), 0);
        assert_eq!(leading_zero_bits(&[0x80]), 0);
        assert_eq!(leading_zero_bits(&[0x01]), 7);
        assert_eq!(leading_zero_bits(&[0x00, 0xff]), 8);
        assert_eq!(leading_zero_bits(&[0x00, 0x00, 0x10]), 19);
        assert_eq!(leading_zero_bits(&[0x00; 32]), 256);
    }

    #[test]
    fn decimal_digits_are_plain() {
        let mut buffer = [0; 20];
        assert_eq!(decimal(0, &mut buffer), b"0");
        assert_eq!(decimal(1_234_567, &mut buffer), b"1234567");
        assert_eq!(decimal(u64::MAX, &mut buffer), b"18446744073709551615");
    }

    #[test]
    fn solve_finds_a_solution_that_verifies() {
        let solution = solve(TOKEN, 12, 0, 1 << 24).expect("found");
        assert!(is_solution(TOKEN, solution, 12));
        // It is the first one: no smaller candidate works.
        assert!((0..solution).all(|n| !is_solution(TOKEN, n, 12)));
        // In chunks, the same answer.
        let mut start = 0;
        let chunked = loop {
            if let Some(found) = solve(TOKEN, 12, start, 100) {
                break found;
            }
            start += 100;
        };
        assert_eq!(chunked, solution);
        // The hash really is over `token:decimal`.
        let hash = Sha256::digest(format!("{TOKEN}:{solution}"));
        assert!(leading_zero_bits(&hash) >= 12);
    }

    #[test]
    fn a_solution_for_a_lower_difficulty_fails_a_higher_one() {
        // The first candidate with exactly 4 leading zero bits.
        let weak = (0..)
            .find(|n| leading_zero_bits(&Sha256::digest(format!("{TOKEN}:{n}"))) == 4)
            .expect("found");
        assert!(is_solution(TOKEN, weak, 4));
        assert!(!is_solution(TOKEN, weak, 5));
        assert!(is_solution(TOKEN, weak, 0));
    }

    #[test]
    fn difficulty_zero_is_solved_at_once_and_an_empty_chunk_finds_nothing() {
        assert_eq!(solve(TOKEN, 0, 7, 1), Some(7));
        assert_eq!(solve(TOKEN, 0, 7, 0), None);
        assert_eq!(solve(TOKEN, 0, u64::MAX, 10), None);
    }
}
