//! Cookie names and attributes in one place. Over HTTPS every cookie is `__Host-`
//! prefixed and `Secure`; in plain-HTTP local mode the prefix is dropped (browsers refuse
//! `__Host-` without `Secure`).

/// The sign-in session (HttpOnly).
pub const SESSION: &str = "sesame-session";
/// This browser's random id: flows and CSRF tokens are bound to it (HttpOnly).
pub const DEVICE: &str = "sesame-device";
/// The chosen language (readable by the page; not a secret).
pub const LANGUAGE: &str = "sesame-lang";

/// The cookie's name as sent, with the `__Host-` prefix over HTTPS.
pub fn name(base: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// A `Set-Cookie` value. `max_age` `None` makes a browser-session cookie.
pub fn set(base: &str, value: &str, secure: bool, http_only: bool, max_age: Option<i64>) -> String {
    let mut cookie = format!("{}={value}; Path=/; SameSite=Lax", name(base, secure));
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    cookie
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear(base: &str, secure: bool) -> String {
    set(base, "", secure, true, Some(0))
}

/// The value of a cookie in a `Cookie` header.
pub fn read(header: &str, base: &str, secure: bool) -> Option<String> {
    let wanted = name(base, secure);
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == wanted && !value.is_empty()).then(|| value.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_cookies_are_host_prefixed_and_secure() {
        let cookie = set(SESSION, "abc", true, true, None);
        assert_eq!(
            cookie,
            "__Host-sesame-session=abc; Path=/; SameSite=Lax; HttpOnly; Secure"
        );
        assert_eq!(
            set(LANGUAGE, "en", false, false, Some(10)),
            "sesame-lang=en; Path=/; SameSite=Lax; Max-Age=10"
        );
    }

    #[test]
    fn reading_takes_the_right_name() {
        let header = "sesame-session=plain; __Host-sesame-session=secure; other=1";
        assert_eq!(read(header, SESSION, true).as_deref(), Some("secure"));
        assert_eq!(read(header, SESSION, false).as_deref(), Some("plain"));
        assert_eq!(read("x=1", SESSION, false), None);
    }
}
