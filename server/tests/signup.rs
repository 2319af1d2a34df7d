//! Invitation-based registration (seed 003): invitations and their states, the sign-up
//! steps, the code and its tries, "Can't sign in?" in its three cases, and a new version
//! of the terms asked at the next sign-in.

mod common;

use app::{
    api::{
        signin::{SignInApi, SignInOutcome},
        signup::{
            BotProof, CantSignInForm, InvitationProblem, SignUpApi, SignUpLinkState, SignUpRequest,
            SignUpStep, SignUpView,
        },
        ssr::RequestMeta,
    },
    i18n::{Locale, Msg},
};
use common::TestSesame;
use jiff::SignedDuration;
use sesame::{
    flows::{signin::SignInFlow, signup::SignUpFlow},
    invitations::{self, InviteOutcome, Invitee},
    store::invitations::InvitationState,
};

const PASSWORD: &str = "Diplome-Numerique-2026";

fn meta(device: &str) -> RequestMeta {
    RequestMeta {
        request_id: "test".into(),
        client_ip: "192.0.2.77".parse().expect("ip"),
        user_agent: "test".into(),
        locale: Locale::Fr,
        device_id: device.into(),
        session_token: None,
        secure: false,
    }
}

async fn portal() -> TestSesame {
    // An easy bot check: the tests solve it natively, in a debug build.
    TestSesame::new(|config| config.bot_check.difficulty = 6).await
}

async fn mails(test: &TestSesame) -> Vec<(String, String)> {
    sqlx::query_as("SELECT recipient, text_body FROM outbox ORDER BY created_at, rowid")
        .fetch_all(&test.sesame.store.pool)
        .await
        .expect("outbox")
}

/// The value after `marker` in the last mail to `to` containing it, up to a space or line end.
async fn mailed_value(test: &TestSesame, to: &str, marker: &str) -> String {
    let body = mails(test)
        .await
        .into_iter()
        .rev()
        .find(|(recipient, body)| recipient == to && body.contains(marker))
        .map(|(_, body)| body)
        .unwrap_or_else(|| panic!("a mail to {to} with {marker:?}"));
    let start = body.find(marker).expect("marker") + marker.len();
    body[start..]
        .split(|c: char| c.is_whitespace() || c == '&')
        .next()
        .expect("value")
        .to_owned()
}

async fn mailed_code(test: &TestSesame, to: &str) -> String {
    let body = mails(test)
        .await
        .into_iter()
        .rev()
        .find(|(recipient, body)| recipient == to && body.contains("/signup/link?token="))
        .map(|(_, body)| body)
        .expect("a sign-up code mail");
    body.split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 6)
        .expect("code")
        .to_owned()
}

async fn invite(test: &TestSesame, email: &str) -> String {
    let invitee = Invitee {
        email: email.into(),
        issuer: "Université du Québec".into(),
        language: Locale::Fr,
    };
    invitations::invite(&test.sesame, &invitee, "cli:test")
        .await
        .expect("invite");
    mailed_value(test, email, "/signup?invitation=").await
}

/// What the browser computes for a bot-check challenge.
fn solution_for(challenge: &str) -> String {
    let difficulty = app::pow::difficulty(challenge).expect("challenge");
    app::pow::solve(challenge, difficulty, 0, u64::MAX)
        .expect("solution")
        .to_string()
}

fn solved(view: &SignUpView) -> BotProof {
    BotProof {
        challenge: view.bot_challenge.clone(),
        solution: solution_for(&view.bot_challenge),
    }
}

/// Invitation link → names and address → password: answers the flow at the code step.
async fn sign_up_to_code(flow: &SignUpFlow, token: &str, email: &str) -> String {
    let m = meta("browser");
    let id = flow
        .submit(
            &m,
            None,
            SignUpRequest::Identify {
                invitation: Some(token.into()),
                first_name: "Amélie".into(),
                last_name: "Tremblay".into(),
                email: email.to_uppercase(),
            },
        )
        .await
        .expect("identify");
    let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
    assert_eq!(view.step, SignUpStep::Password, "{:?}", view.error);
    let bot = solved(&view);
    flow.submit(
        &m,
        Some(id.clone()),
        SignUpRequest::Password {
            password: PASSWORD.into(),
            confirmation: PASSWORD.into(),
            consent: true,
            bot,
        },
    )
    .await
    .expect("password")
}

#[tokio::test]
async fn an_invited_person_signs_up_proves_the_address_and_signs_in_with_it() {
    let test = portal().await;
    let flow = SignUpFlow(test.sesame.clone());
    let m = meta("browser");
    let token = invite(&test, "amelie.tremblay@example.org").await;

    // Opening the link twice uses nothing up.
    for _ in 0..2 {
        let view = flow
            .view(&m, None, Some(token.clone()))
            .await
            .expect("view");
        assert_eq!(view.step, SignUpStep::Identify);
        assert_eq!(view.issuer, "Université du Québec");
    }

    // Another address is refused without saying which one was invited.
    let id = flow
        .submit(
            &m,
            None,
            SignUpRequest::Identify {
                invitation: Some(token.clone()),
                first_name: "Amélie".into(),
                last_name: "Tremblay".into(),
                email: "someone.else@example.org".into(),
            },
        )
        .await
        .expect("identify");
    let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
    assert_eq!(view.step, SignUpStep::Identify);
    let error = view.error.expect("mismatch");
    assert_eq!(error.message, Msg::SignupAddressMismatch);
    assert!(!error.text(Locale::Fr).contains("amelie"));

    // The refused form continues in the same flow.
    let id = flow
        .submit(
            &m,
            Some(id),
            SignUpRequest::Identify {
                invitation: None,
                first_name: "Amélie".into(),
                last_name: "Tremblay".into(),
                email: " Amelie.Tremblay@Example.org ".into(),
            },
        )
        .await
        .expect("identify");
    let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
    assert_eq!(view.step, SignUpStep::Password);

    // Consent, confirmation and the policy are checked.
    let attempts = [
        (PASSWORD, PASSWORD, false, Msg::SignupConsentRequired),
        (
            PASSWORD,
            "Autre-chose-2026!",
            true,
            Msg::ActivationPasswordMismatch,
        ),
        ("court", "court", true, Msg::ActivationPasswordWeak),
    ];
    for (password, confirmation, consent, expected) in attempts {
        let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
        let bot = solved(&view);
        flow.submit(
            &m,
            Some(id.clone()),
            SignUpRequest::Password {
                password: password.into(),
                confirmation: confirmation.into(),
                consent,
                bot,
            },
        )
        .await
        .expect("password");
        let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
        assert_eq!(view.step, SignUpStep::Password);
        assert_eq!(view.error.map(|e| e.message), Some(expected));
    }

    let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
    let bot = solved(&view);
    flow.submit(
        &m,
        Some(id.clone()),
        SignUpRequest::Password {
            password: PASSWORD.into(),
            confirmation: PASSWORD.into(),
            consent: true,
            bot,
        },
    )
    .await
    .expect("password");
    let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
    assert_eq!(view.step, SignUpStep::Verify, "{:?}", view.error);
    assert_eq!(view.email, "amelie.tremblay@example.org");

    // Not active before the code: sign-in is refused.
    let sign_in = SignInFlow(test.sesame.clone());
    let outcome = sign_in
        .sign_in(
            &m,
            "amelie.tremblay@example.org".into(),
            PASSWORD.into(),
            None,
        )
        .await
        .expect("sign in");
    assert!(matches!(outcome, SignInOutcome::Refused { .. }));

    let code = mailed_code(&test, "amelie.tremblay@example.org").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    flow.submit(
        &m,
        Some(id.clone()),
        SignUpRequest::Code { code: wrong.into() },
    )
    .await
    .expect("code");
    let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
    let error = view.error.expect("wrong code");
    assert_eq!(error.message, Msg::RecoveryCodeWrong);
    assert_eq!(error.tries_left, Some(4));

    flow.submit(&m, Some(id.clone()), SignUpRequest::Code { code })
        .await
        .expect("code");
    let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
    assert_eq!(view.step, SignUpStep::Done);

    let outcome = sign_in
        .sign_in(
            &m,
            "Amelie.Tremblay@example.org".into(),
            PASSWORD.into(),
            None,
        )
        .await
        .expect("sign in");
    assert!(matches!(outcome, SignInOutcome::SignedIn { .. }));

    // The link again: used.
    let view = flow
        .view(&meta("other"), None, Some(token))
        .await
        .expect("view");
    assert_eq!(view.step, SignUpStep::Invalid);
    assert_eq!(view.problem, Some(InvitationProblem::Used));

    let listed = invitations::list(&test.sesame, Some("amelie.tremblay@example.org"))
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state_at(0), InvitationState::Used);
}

#[tokio::test]
async fn invitations_expire_are_replaced_and_revoked() {
    let test = portal().await;
    let flow = SignUpFlow(test.sesame.clone());
    let m = meta("browser");
    let first = invite(&test, "luc@example.org").await;
    test.clock.advance(SignedDuration::from_secs(1));
    let second = invite(&test, "luc@example.org").await;
    let problem = |view: SignUpView| (view.step, view.problem);
    assert_eq!(
        problem(flow.view(&m, None, Some(first)).await.expect("view")),
        (SignUpStep::Invalid, Some(InvitationProblem::NotValid))
    );
    assert_eq!(
        flow.view(&m, None, Some(second.clone()))
            .await
            .expect("view")
            .step,
        SignUpStep::Identify
    );

    test.clock.advance(SignedDuration::from_hours(30 * 24 + 1));
    assert_eq!(
        problem(
            flow.view(&m, None, Some(second.clone()))
                .await
                .expect("view")
        ),
        (SignUpStep::Invalid, Some(InvitationProblem::Expired))
    );
    // An expired invitation cannot be used by posting the form either.
    let refused = flow
        .submit(
            &m,
            None,
            SignUpRequest::Identify {
                invitation: Some(second),
                first_name: "Luc".into(),
                last_name: "Roy".into(),
                email: "luc@example.org".into(),
            },
        )
        .await;
    assert!(refused.is_err());

    let third = invite(&test, "luc@example.org").await;
    let revoked = invitations::revoke(&test.sesame, "LUC@example.org", "cli:test")
        .await
        .expect("revoke");
    assert_eq!(revoked, 1);
    assert_eq!(
        problem(flow.view(&m, None, Some(third)).await.expect("view")),
        (SignUpStep::Invalid, Some(InvitationProblem::NotValid))
    );
    let states: Vec<_> = invitations::list(&test.sesame, Some("luc@example.org"))
        .await
        .expect("list")
        .iter()
        .map(|i| i.state_at(test.sesame.clock.now_secs()))
        .collect();
    assert_eq!(
        states,
        [
            InvitationState::Revoked,
            InvitationState::Expired,
            InvitationState::Replaced
        ]
    );

    // Nobody is invited twice into an existing account.
    let token = invite(&test, "zoe@example.org").await;
    let id = sign_up_to_code(&flow, &token, "zoe@example.org").await;
    assert_eq!(
        flow.view(&m, Some(id), None).await.expect("view").step,
        SignUpStep::Verify
    );
    let again = invitations::invite(
        &test.sesame,
        &Invitee {
            email: "zoe@example.org".into(),
            issuer: String::new(),
            language: Locale::En,
        },
        "cli:test",
    )
    .await
    .expect("invite");
    assert_eq!(again, InviteOutcome::AlreadyHasAccount);
}

#[tokio::test]
async fn five_wrong_codes_block_the_code_and_a_new_one_works() {
    let test = portal().await;
    let flow = SignUpFlow(test.sesame.clone());
    let m = meta("browser");
    let token = invite(&test, "marc@example.org").await;
    let id = sign_up_to_code(&flow, &token, "marc@example.org").await;
    let code = mailed_code(&test, "marc@example.org").await;
    let wrong = if code == "123456" { "654321" } else { "123456" };
    for _ in 0..5 {
        flow.submit(
            &m,
            Some(id.clone()),
            SignUpRequest::Code { code: wrong.into() },
        )
        .await
        .expect("code");
    }
    let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
    assert_eq!(
        view.error.map(|e| e.message),
        Some(Msg::RecoveryCodeBlocked)
    );
    // The right code no longer works either.
    flow.submit(&m, Some(id.clone()), SignUpRequest::Code { code })
        .await
        .expect("code");
    let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
    assert_eq!(view.step, SignUpStep::Verify);
    assert_eq!(view.sends_left, 2);

    flow.submit(&m, Some(id.clone()), SignUpRequest::Resend)
        .await
        .expect("resend");
    let code = mailed_code(&test, "marc@example.org").await;
    flow.submit(&m, Some(id.clone()), SignUpRequest::Code { code })
        .await
        .expect("code");
    let view = flow.view(&m, Some(id), None).await.expect("view");
    assert_eq!(view.step, SignUpStep::Done);
}

#[tokio::test]
async fn cant_sign_in_answers_alike_and_mails_what_each_account_needs() {
    let test = portal().await;
    let flow = SignUpFlow(test.sesame.clone());
    let m = meta("browser");
    // A pending account (stopped at the code), an active one, and an unknown address.
    let token = invite(&test, "pending@example.org").await;
    sign_up_to_code(&flow, &token, "pending@example.org").await;
    let token = invite(&test, "active@example.org").await;
    let id = sign_up_to_code(&flow, &token, "active@example.org").await;
    let code = mailed_code(&test, "active@example.org").await;
    flow.submit(&m, Some(id), SignUpRequest::Code { code })
        .await
        .expect("code");
    let before = mails(&test).await.len();

    for address in [
        "pending@example.org",
        "ACTIVE@example.org",
        "nobody@example.org",
    ] {
        let view = flow.cant_sign_in_view(&m, None).await.expect("view");
        let solution = solution_for(&view.bot_challenge);
        let outcome = flow
            .cant_sign_in(
                &m,
                CantSignInForm {
                    email: Some(address.into()),
                    bot_challenge: Some(view.bot_challenge),
                    bot_solution: Some(solution),
                },
            )
            .await
            .expect("help");
        assert_eq!(outcome, None, "{address}: the same \"sent\" page");
    }
    let sent = mails(&test).await.split_off(before);
    let recipients: Vec<_> = sent.iter().map(|(to, _)| to.as_str()).collect();
    assert_eq!(recipients, ["pending@example.org", "active@example.org"]);
    assert!(sent[0].1.contains("/signup/link?token="));
    assert!(sent[1].1.contains("/forgot-password/link?token="));

    // The activation link works in any browser, once; opening it changes nothing.
    let link = mailed_value(&test, "pending@example.org", "/signup/link?token=").await;
    assert_eq!(
        flow.link_state(&link).await.expect("state"),
        SignUpLinkState::Usable
    );
    assert_eq!(
        flow.link_state(&link).await.expect("state"),
        SignUpLinkState::Usable
    );
    assert!(flow.use_link(&meta("phone"), &link).await.expect("use"));
    assert!(!flow.use_link(&meta("phone"), &link).await.expect("use"));
    assert_eq!(
        flow.link_state(&link).await.expect("state"),
        SignUpLinkState::NotValid
    );
    let sign_in = SignInFlow(test.sesame.clone());
    let outcome = sign_in
        .sign_in(&m, "pending@example.org".into(), PASSWORD.into(), None)
        .await
        .expect("sign in");
    assert!(matches!(outcome, SignInOutcome::SignedIn { .. }));
}

#[tokio::test]
async fn without_the_bot_check_a_few_submissions_per_address_pass_then_a_pause() {
    let test = TestSesame::new(|config| {
        config.bot_check.difficulty = 6;
        config.signup.unsolved_per_address_per_hour = 2;
    })
    .await;
    let flow = SignUpFlow(test.sesame.clone());
    let m = meta("browser");
    let form = |email: &str| CantSignInForm {
        email: Some(email.into()),
        bot_challenge: None,
        bot_solution: None,
    };
    // A replayed proof is refused outright, and counts against the strict limit.
    let page = flow.cant_sign_in_view(&m, None).await.expect("view");
    let solution = solution_for(&page.bot_challenge);
    let proof = |challenge: String| CantSignInForm {
        email: Some("x@example.org".into()),
        bot_challenge: Some(challenge),
        bot_solution: Some(solution.clone()),
    };
    let first = flow
        .cant_sign_in(&m, proof(page.bot_challenge.clone()))
        .await
        .expect("help");
    assert_eq!(first, None);
    let replayed = flow
        .cant_sign_in(&m, proof(page.bot_challenge.clone()))
        .await
        .expect("help")
        .expect("a refusal");
    let view = flow
        .cant_sign_in_view(&m, Some(replayed))
        .await
        .expect("view");
    assert_eq!(view.error.map(|e| e.message), Some(Msg::BotCheckFailed));

    // One count is used by the replay: one more submission without the check passes.
    let outcome = flow
        .cant_sign_in(&m, form("n1@example.org"))
        .await
        .expect("help");
    assert_eq!(outcome, None);
    let refused = flow
        .cant_sign_in(&m, form("n3@example.org"))
        .await
        .expect("help")
        .expect("a refusal");
    let view = flow
        .cant_sign_in_view(&m, Some(refused))
        .await
        .expect("view");
    assert_eq!(view.error.map(|e| e.message), Some(Msg::SignupThrottled));
}

#[tokio::test]
async fn a_new_version_of_the_terms_is_accepted_before_the_next_sign_in() {
    let test = portal().await;
    let flow = SignUpFlow(test.sesame.clone());
    let m = meta("browser");
    let token = invite(&test, "ines@example.org").await;
    let id = sign_up_to_code(&flow, &token, "ines@example.org").await;
    let code = mailed_code(&test, "ines@example.org").await;
    flow.submit(&m, Some(id), SignUpRequest::Code { code })
        .await
        .expect("code");

    // The institution publishes a new privacy policy.
    let mut config = (*test.sesame.config).clone();
    config.signup.privacy_version = "2027-01".into();
    let mut sesame = test.sesame.clone();
    sesame.config = std::sync::Arc::new(config);
    let sign_in = SignInFlow(sesame.clone());

    let outcome = sign_in
        .sign_in(&m, "ines@example.org".into(), PASSWORD.into(), None)
        .await
        .expect("sign in");
    let SignInOutcome::TermsRequired { flow_id } = outcome else {
        panic!("the terms first");
    };
    let view = sign_in
        .terms_view(&m, Some(flow_id.clone()))
        .await
        .expect("view");
    assert!(view.pending);
    assert_eq!(view.privacy_version, "2027-01");
    // Another browser cannot use the flow.
    assert!(
        sign_in
            .accept_terms(&meta("other"), flow_id.clone(), true)
            .await
            .expect("accept")
            .is_none()
    );
    let outcome = sign_in
        .accept_terms(&m, flow_id.clone(), false)
        .await
        .expect("accept");
    assert!(matches!(outcome, Some(SignInOutcome::TermsRequired { .. })));
    let view = sign_in
        .terms_view(&m, Some(flow_id.clone()))
        .await
        .expect("view");
    assert_eq!(view.error, Some(Msg::SigninTermsRequired));
    let outcome = sign_in
        .accept_terms(&m, flow_id.clone(), true)
        .await
        .expect("accept");
    assert!(matches!(outcome, Some(SignInOutcome::SignedIn { .. })));
    // Used up: a replay opens nothing.
    assert!(
        sign_in
            .accept_terms(&m, flow_id, true)
            .await
            .expect("accept")
            .is_none()
    );
    let outcome = sign_in
        .sign_in(&m, "ines@example.org".into(), PASSWORD.into(), None)
        .await
        .expect("sign in");
    assert!(matches!(outcome, SignInOutcome::SignedIn { .. }));
}

#[tokio::test]
async fn two_browsers_racing_on_one_invitation_make_one_account() {
    let test = portal().await;
    let flow = std::sync::Arc::new(SignUpFlow(test.sesame.clone()));
    let token = invite(&test, "race@example.org").await;
    let mut racers = Vec::new();
    for n in 0..6 {
        let flow = flow.clone();
        let token = token.clone();
        racers.push(tokio::spawn(async move {
            let device = format!("browser-{n}");
            let m = meta(&device);
            let id = flow
                .submit(
                    &m,
                    None,
                    SignUpRequest::Identify {
                        invitation: Some(token),
                        first_name: "Rémi".into(),
                        last_name: "Côté".into(),
                        email: "race@example.org".into(),
                    },
                )
                .await
                .expect("identify");
            let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
            let bot = solved(&view);
            flow.submit(
                &m,
                Some(id.clone()),
                SignUpRequest::Password {
                    password: format!("{PASSWORD}-{n}"),
                    confirmation: format!("{PASSWORD}-{n}"),
                    consent: true,
                    bot,
                },
            )
            .await
            .expect("password");
            flow.view(&m, Some(id), None).await.expect("view").step
        }));
    }
    let mut at_code = 0;
    for racer in racers {
        if racer.await.expect("join") == SignUpStep::Verify {
            at_code += 1;
        }
    }
    assert_eq!(at_code, 1, "one browser goes on to the code");
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM people WHERE login = $1")
        .bind("race@example.org")
        .fetch_one(&test.sesame.store.pool)
        .await
        .expect("count");
    assert_eq!(accounts, 1);
}

#[tokio::test]
async fn a_sign_up_left_too_long_says_it_expired() {
    let test = portal().await;
    let flow = SignUpFlow(test.sesame.clone());
    let m = meta("browser");
    let token = invite(&test, "slow@example.org").await;
    let id = flow
        .submit(
            &m,
            None,
            SignUpRequest::Identify {
                invitation: Some(token.clone()),
                first_name: "Paul".into(),
                last_name: "Lent".into(),
                email: "slow@example.org".into(),
            },
        )
        .await
        .expect("identify");
    test.clock.advance(SignedDuration::from_mins(61));
    let view = flow.view(&m, Some(id.clone()), None).await.expect("view");
    assert_eq!(view.problem, Some(InvitationProblem::FlowExpired));
    // Someone else's flow id says nothing more than "not valid".
    let view = flow
        .view(&meta("other"), Some(id), None)
        .await
        .expect("view");
    assert_eq!(view.problem, Some(InvitationProblem::NotValid));
    // The invitation itself still works.
    let view = flow.view(&m, None, Some(token)).await.expect("view");
    assert_eq!(view.step, SignUpStep::Identify);
}
