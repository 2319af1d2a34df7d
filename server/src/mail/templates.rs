//! Localized messages, each with a plain-text and an HTML part built from the same texts.

use app::i18n::{Locale, Msg};

use super::RenderedMail;

/// Wraps paragraphs of plain text into the HTML part, escaped, in the message's language.
fn html_document(locale: Locale, subject: &str, text: &str) -> String {
    let paragraphs: String = text
        .split("\n\n")
        .map(|p| {
            format!(
                "<p>{}</p>\n",
                html_escape::encode_text(p).replace('\n', "<br>")
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family: system-ui, sans-serif; line-height: 1.5; max-width: 40em;\">\n{paragraphs}</body>\n</html>\n",
        lang = locale.code(),
        title = html_escape::encode_text(subject),
    )
}

/// The HTML part with `link` made clickable (found as the escaping wrote it: a `&` in a
/// query string is `&amp;` there).
fn html_with_link(locale: Locale, subject: &str, text: &str, link: &str) -> String {
    let shown = html_escape::encode_text(link);
    let href = html_escape::encode_double_quoted_attribute(link);
    html_document(locale, subject, text)
        .replace(shown.as_ref(), &format!("<a href=\"{href}\">{shown}</a>"))
}

/// `sesame admin send-test-mail`: proves the transport works.
pub fn test_message(locale: Locale, institution: &str) -> RenderedMail {
    let subject = locale.text(Msg::MailTestSubject).to_owned();
    let text = locale.format(Msg::MailTestBody, &[("institution", institution)]);
    let html = html_document(locale, &subject, &text);
    RenderedMail {
        subject,
        text,
        html,
    }
}

/// The activation mail: a link valid until `deadline` (local time) and the same proof as
/// a 6-digit code to type on another device. `forwarding`: the address mail will be
/// forwarded to, rather than the recovery email.
pub fn activation_link(
    locale: Locale,
    institution: &app::api::portal::Institution,
    forwarding: bool,
    link: &str,
    code: &str,
    deadline: &str,
) -> RenderedMail {
    let name = institution.name.get(locale);
    let (subject, intro) = if forwarding {
        (Msg::MailForwardSubject, Msg::MailForwardIntro)
    } else {
        (Msg::MailActivationSubject, Msg::MailActivationIntro)
    };
    let subject = locale.format(subject, &[("institution", name)]);
    let text = locale.format(
        Msg::MailActivationBody,
        &[
            ("intro", &locale.format(intro, &[("institution", name)])),
            ("link", link),
            ("code", code),
            ("deadline", deadline),
            ("phone", &institution.helpdesk_phone),
        ],
    );
    let html = html_with_link(locale, &subject, &text, link);
    RenderedMail {
        subject,
        text,
        html,
    }
}

/// A short notice about the account, with its user ID, where to sign in, and the helpdesk
/// to call if the person did not do it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountNotice {
    /// After activation: the account is active.
    Activated,
    /// The user ID, as found by "forgot username".
    UsernameReminder,
    /// After a password reset.
    PasswordChanged,
    /// After a change under "My account" (the other sessions were ended).
    PasswordChangedInAccount,
    AuthenticatorAdded,
    AuthenticatorRemoved,
    /// To the old recovery address: it was replaced and gets no more codes.
    RecoveryEmailChanged,
}

impl AccountNotice {
    /// The subject and the body; the body may use `{institution}`, `{login}`, `{link}` and
    /// `{phone}`.
    const fn texts(self) -> (Msg, Msg) {
        match self {
            AccountNotice::Activated => (Msg::MailActivatedSubject, Msg::MailActivatedBody),
            AccountNotice::UsernameReminder => (Msg::MailUsernameSubject, Msg::MailUsernameBody),
            AccountNotice::PasswordChanged => (
                Msg::MailPasswordChangedSubject,
                Msg::MailPasswordChangedBody,
            ),
            AccountNotice::AuthenticatorAdded => (
                Msg::MailAuthenticatorAddedSubject,
                Msg::MailAuthenticatorAddedBody,
            ),
            AccountNotice::AuthenticatorRemoved => (
                Msg::MailAuthenticatorRemovedSubject,
                Msg::MailAuthenticatorRemovedBody,
            ),
            AccountNotice::PasswordChangedInAccount => (
                Msg::MailPasswordChangedInAccountSubject,
                Msg::MailPasswordChangedInAccountBody,
            ),
            AccountNotice::RecoveryEmailChanged => (
                Msg::MailRecoveryEmailChangedSubject,
                Msg::MailRecoveryEmailChangedBody,
            ),
        }
    }
}

/// The mail of an [`AccountNotice`] for the account `login`.
pub fn account_notice(
    locale: Locale,
    institution: &app::api::portal::Institution,
    notice: AccountNotice,
    login: &str,
    sign_in_url: &str,
) -> RenderedMail {
    let (subject, body) = notice.texts();
    let name = institution.name.get(locale);
    let subject = locale.format(subject, &[("institution", name)]);
    let text = locale.format(
        body,
        &[
            ("institution", name),
            ("login", login),
            ("link", sign_in_url),
            ("phone", &institution.helpdesk_phone),
        ],
    );
    let html = html_document(locale, &subject, &text);
    RenderedMail {
        subject,
        text,
        html,
    }
}

/// To a new recovery address: the code that proves it, valid `minutes`.
pub fn recovery_email_code(
    locale: Locale,
    institution: &app::api::portal::Institution,
    code: &str,
    minutes: i64,
) -> RenderedMail {
    let name = institution.name.get(locale);
    let subject = locale.format(Msg::MailRecoveryEmailCodeSubject, &[("institution", name)]);
    let text = locale.format(
        Msg::MailRecoveryEmailCodeBody,
        &[
            ("institution", name),
            ("code", code),
            ("minutes", &minutes.to_string()),
            ("phone", &institution.helpdesk_phone),
        ],
    );
    let html = html_document(locale, &subject, &text);
    RenderedMail {
        subject,
        text,
        html,
    }
}

/// Forgot password: a 6-digit code, and the same proof as a link, valid `minutes`.
pub fn password_reset_code(
    locale: Locale,
    institution: &app::api::portal::Institution,
    link: &str,
    code: &str,
    minutes: i64,
) -> RenderedMail {
    let texts = (Msg::MailResetCodeSubject, Msg::MailResetCodeBody);
    proof_mail(locale, institution, texts, link, Some(code), minutes)
}

/// Sign-up: the code that proves the address, and the same proof as a link, valid
/// `minutes` (step 4).
pub fn sign_up_code(
    locale: Locale,
    institution: &app::api::portal::Institution,
    link: &str,
    code: &str,
    minutes: i64,
) -> RenderedMail {
    let texts = (Msg::MailSignupCodeSubject, Msg::MailSignupCodeBody);
    proof_mail(locale, institution, texts, link, Some(code), minutes)
}

/// A mail proving an address: `{link}` (clickable in the HTML part), `{code}` if any,
/// valid `{minutes}`, with the help desk's `{phone}`.
fn proof_mail(
    locale: Locale,
    institution: &app::api::portal::Institution,
    (subject, body): (Msg, Msg),
    link: &str,
    code: Option<&str>,
    minutes: i64,
) -> RenderedMail {
    let name = institution.name.get(locale);
    let subject = locale.format(subject, &[("institution", name)]);
    let text = locale.format(
        body,
        &[
            ("institution", name),
            ("link", link),
            ("code", code.unwrap_or_default()),
            ("minutes", &minutes.to_string()),
            ("phone", &institution.helpdesk_phone),
        ],
    );
    let html = html_with_link(locale, &subject, &text, link);
    RenderedMail {
        subject,
        text,
        html,
    }
}

/// "Can't sign in?" for an account not activated yet: the link that activates it, valid
/// `minutes`.
pub fn sign_up_link(
    locale: Locale,
    institution: &app::api::portal::Institution,
    link: &str,
    minutes: i64,
) -> RenderedMail {
    let texts = (Msg::MailSignupCodeSubject, Msg::MailSignupLinkBody);
    proof_mail(locale, institution, texts, link, None, minutes)
}

/// The invitation: who invites, a "Sign up" button and the same link in text, valid
/// until `deadline`.
pub fn invitation(
    locale: Locale,
    institution: &app::api::portal::Institution,
    issuer: &str,
    link: &str,
    deadline: &str,
) -> RenderedMail {
    let name = institution.name.get(locale);
    let subject = locale.format(
        Msg::MailInvitationSubject,
        &[("institution", name), ("issuer", issuer)],
    );
    let text = locale.format(
        Msg::MailInvitationBody,
        &[
            ("institution", name),
            ("issuer", issuer),
            ("link", link),
            ("deadline", deadline),
            ("phone", &institution.helpdesk_phone),
        ],
    );
    let button = format!(
        "<p><a href=\"{href}\" style=\"display: inline-block; padding: 0.75em 1.5em; \
         background: #1d4f91; color: #ffffff; border-radius: 4px; text-decoration: none; \
         font-weight: bold;\">{label}</a></p>\n",
        href = html_escape::encode_double_quoted_attribute(link),
        label = html_escape::encode_text(locale.text(Msg::MailInvitationButton)),
    );
    let html =
        html_with_link(locale, &subject, &text, link).replacen("<p>", &format!("{button}<p>"), 1);
    RenderedMail {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parts_are_in_the_requested_language_and_escaped() {
        let fr = test_message(Locale::Fr, "Université <Test>");
        assert!(fr.subject.contains("message d'essai"));
        assert!(fr.text.contains("Université <Test>"));
        assert!(fr.html.contains("lang=\"fr\""));
        assert!(fr.html.contains("Université &lt;Test&gt;"));
        let en = test_message(Locale::En, "Test University");
        assert!(en.subject.contains("test message"));
        assert!(en.html.contains("lang=\"en\""));
    }
}
