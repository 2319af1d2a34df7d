//! The authenticator app (RFC 6238): 160-bit secrets, 6-digit codes over 30-second steps,
//! HMAC-SHA1 (what every app supports), one step of drift either way. The code math is
//! the `totp-rs` crate's; what is ours is which step a code matched, so that a code, once
//! used, can be refused again (see `store::authenticators::use_step`).

use qrcode::{EcLevel, QrCode, render::svg};
use rand::RngCore;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use crate::error::{Error, Result};

pub const DIGITS: usize = 6;
pub const STEP_SECS: i64 = 30;
/// Steps of clock drift accepted before and after now.
const DRIFT_STEPS: i64 = 1;
const SECRET_BYTES: usize = 20;

/// A fresh random secret.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> Result<TOTP> {
    // The otpauth label forbids ':' in either part.
    let clean = |text: &str| text.replace(':', " ");
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP_SECS.unsigned_abs(),
        secret.to_vec(),
        Some(clean(issuer)),
        clean(account),
    )
    .map_err(|e| Error::Invalid(format!("authenticator secret: {e:?}")))
}

/// The secret as people type it into an app: base32 in groups of four.
pub fn secret_text(secret: &[u8]) -> Result<String> {
    let base32 = totp(secret, "-", "-")?.get_secret_base32();
    let chars: Vec<char> = base32.chars().collect();
    Ok(chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" "))
}

/// The `otpauth://` address an app reads from the QR code.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> Result<String> {
    Ok(totp(secret, issuer, account)?.get_url())
}

/// The QR code of `uri` as an inline SVG, hidden from assistive technologies (the page
/// names it and gives the secret as text beside it).
pub fn qr_svg(uri: &str) -> Result<String> {
    let code = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M)
        .map_err(|e| Error::Invalid(format!("QR code: {e}")))?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let svg_start = image.find("<svg").unwrap_or(0);
    Ok(image[svg_start..].replacen("<svg ", "<svg aria-hidden=\"true\" focusable=\"false\" ", 1))
}

/// The code for the step that contains `now` (tests, and the demo).
pub fn code_at(secret: &[u8], now: i64) -> Result<String> {
    Ok(totp(secret, "-", "-")?.generate(now.max(0).unsigned_abs()))
}

/// The step `code` belongs to, within the drift allowed around `now`; `None` if it matches
/// none. Every candidate is compared, in constant time.
pub fn matching_step(secret: &[u8], code: &str, now: i64) -> Result<Option<i64>> {
    let totp = totp(secret, "-", "-")?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let current = now.div_euclid(STEP_SECS);
    let mut found = None;
    for step in current - DRIFT_STEPS..=current + DRIFT_STEPS {
        let expected = totp.generate((step * STEP_SECS).max(0).unsigned_abs());
        let same: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        if same && found.is_none() {
            found = Some(step);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret ("12345678901234567890").
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_are_those_of_rfc_6238() {
        // The appendix's 8-digit values, last six digits.
        for (time, expected) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(
                code_at(RFC_SECRET, time).expect("code"),
                expected,
                "at {time}"
            );
        }
    }

    #[test]
    fn a_code_matches_its_step_and_one_step_of_drift() {
        let secret = new_secret();
        let now = 1_800_000_015;
        let step = now / STEP_SECS;
        let code = code_at(&secret, now).expect("code");
        assert_eq!(
            matching_step(&secret, &code, now).expect("check"),
            Some(step)
        );
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(
            matching_step(&secret, &spaced, now).expect("check"),
            Some(step)
        );
        assert_eq!(
            matching_step(&secret, &code, now + STEP_SECS).expect("check"),
            Some(step),
            "the previous step is accepted"
        );
        assert_eq!(
            matching_step(&secret, &code, now + 2 * STEP_SECS).expect("check"),
            None,
            "two steps later is too late"
        );
        assert_eq!(matching_step(&secret, "", now).expect("check"), None);
        assert_eq!(
            matching_step(&other(&secret), &code, now).expect("check"),
            None
        );
    }

    fn other(secret: &[u8]) -> Vec<u8> {
        secret.iter().map(|b| b ^ 0xff).collect()
    }

    #[test]
    fn the_secret_text_and_qr_code_carry_the_same_secret() {
        let secret = new_secret();
        let text = secret_text(&secret).expect("text");
        assert_eq!(text.replace(' ', "").len(), 32, "160 bits in base32");
        let uri = otpauth_uri(&secret, "UQAM: portail", "jean.gagnon").expect("uri");
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(
            uri.contains(&format!("secret={}", text.replace(' ', ""))),
            "{uri}"
        );
        let svg = qr_svg(&uri).expect("svg");
        assert!(svg.starts_with("<svg aria-hidden=\"true\""), "{svg}");
        assert!(svg.ends_with("</svg>"));
    }
}
