//! The helpdesk console (issue 6): only agents get in (403 for everyone else, sign-in for
//! visitors), every action needs a reason, is refused on the agent's own account, works,
//! and is audited with the agent's id; people are found by each key.

mod common;

use app::{
    api::{
        AppError,
        activation::{ActivationApi, ActivationInput, ActivationStep},
        helpdesk::{self, ActOutcome, ActTarget, HelpdeskAction, HelpdeskApi},
        questions::{QuestionsApi, QuestionsForm},
        ssr::RequestMeta,
    },
    i18n::{Locale, Msg},
};
use axum::{Router, body::Body};
use common::{
    TestSesame,
    browser::{csrf, form_action, location, one_at_a_time, send},
    signed_in,
};
use http::{Request, Response, StatusCode, header};
use sesame::{
    flows::{helpdesk::HelpdeskConsole, questions::QuestionsFlow},
    http::{leptos_options, router},
    invitations::{self, Invitee},
    store::{
        audit,
        people::Category,
        roles, sessions,
        throttle::{self, Rule},
    },
};

fn meta(session: Option<&str>) -> RequestMeta {
    RequestMeta {
        request_id: "test".into(),
        client_ip: "192.0.2.40".parse().expect("ip"),
        user_agent: "test".into(),
        locale: Locale::En,
        device_id: "agent-browser".into(),
        session_token: session.map(str::to_owned),
        secure: false,
    }
}

async fn person_id(test: &TestSesame, login: &str) -> String {
    sesame::store::people::find_by_login(&test.sesame.store.pool, login)
        .await
        .expect("find")
        .expect("person")
        .id
}

/// An agent (signed in), a person without the role (signed in) and the person helped.
struct Desk {
    test: TestSesame,
    agent: String,
    agent_id: String,
    other: String,
    target_id: String,
    target_token: String,
}

async fn desk() -> Desk {
    let test = TestSesame::new(|_| {}).await;
    let agent = signed_in(&test, "agent", Category::PermanentStaff).await;
    let other = signed_in(&test, "curious", Category::PermanentStaff).await;
    let target_token = signed_in(&test, "helped", Category::Retiree).await;
    let agent_id = person_id(&test, "agent").await;
    roles::grant(
        &test.sesame.store.pool,
        &agent_id,
        roles::Role::Helpdesk,
        "test",
        0,
    )
    .await
    .expect("grant");
    let target_id = person_id(&test, "helped").await;
    Desk {
        test,
        agent,
        agent_id,
        other,
        target_id,
        target_token,
    }
}

impl Desk {
    fn console(&self) -> HelpdeskConsole {
        HelpdeskConsole(self.test.sesame.clone())
    }

    async fn act(
        &self,
        token: &str,
        target: ActTarget,
        action: HelpdeskAction,
        reason: &str,
    ) -> Result<ActOutcome, AppError> {
        self.console()
            .act(&meta(Some(token)), target, action, reason.into())
            .await
    }

    async fn on_target(&self, action: HelpdeskAction, reason: &str) -> ActOutcome {
        self.act(
            &self.agent,
            ActTarget::Person(self.target_id.clone()),
            action,
            reason,
        )
        .await
        .expect("act")
    }

    /// The audit row of `kind` about `person_id` whose detail holds `reason`.
    async fn audited(&self, person_id: Option<&str>, kind: &str, reason: &str) -> audit::AuditRow {
        audit::recent(&self.test.sesame.store.pool, person_id, 50)
            .await
            .expect("audit")
            .into_iter()
            .find(|e| e.kind == kind && e.detail.contains(reason))
            .unwrap_or_else(|| panic!("no {kind} event with {reason:?}"))
    }
}

#[tokio::test]
async fn every_function_refuses_people_without_the_role_and_visitors() {
    let desk = desk().await;
    let console = desk.console();
    for token in [Some(desk.other.as_str()), None] {
        let m = meta(token);
        assert_eq!(
            console.search(&m, "helped".into()).await,
            Err(AppError::Forbidden)
        );
        assert_eq!(
            console.person(&m, desk.target_id.clone()).await,
            Err(AppError::Forbidden)
        );
        assert_eq!(
            console.invitation(&m, "x@example.org".into()).await,
            Err(AppError::Forbidden)
        );
        assert_eq!(
            console.letter(&m, "flow".into()).await,
            Err(AppError::Forbidden)
        );
        for action in HelpdeskAction::ALL {
            let target = if action.on_invitation() {
                ActTarget::Invitation("x@example.org".into())
            } else {
                ActTarget::Person(desk.target_id.clone())
            };
            assert_eq!(
                console.act(&m, target, action, "because".into()).await,
                Err(AppError::Forbidden),
                "{action:?}"
            );
        }
    }
    // An administrator is an agent too.
    let other_id = person_id(&desk.test, "curious").await;
    roles::grant(
        &desk.test.sesame.store.pool,
        &other_id,
        roles::Role::Admin,
        "test",
        0,
    )
    .await
    .expect("grant");
    assert!(
        console
            .search(&meta(Some(&desk.other)), "helped".into())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn people_are_found_by_user_id_name_employee_number_and_address() {
    let desk = desk().await;
    let pool = &desk.test.sesame.store.pool;
    sqlx::query("UPDATE people SET employee_number = 'E12345', recovery_email = 'jr.home@example.net' WHERE id = $1")
        .bind(&desk.target_id)
        .execute(pool)
        .await
        .expect("facts");
    let console = desk.console();
    let m = meta(Some(&desk.agent));
    for query in [
        "helped",
        "HELP",
        "jeanne roy",
        "roy",
        "e12345",
        "helped@example.org",
        "JR.Home@example.net",
    ] {
        let view = console.search(&m, query.into()).await.expect("search");
        assert!(
            view.people.iter().any(|p| p.login == "helped"),
            "{query}: {view:?}"
        );
    }
    let view = console.search(&m, "E1234".into()).await.expect("search");
    assert!(view.people.is_empty(), "the employee number matches whole");
    let view = console.search(&m, "%".into()).await.expect("search");
    assert!(view.people.is_empty(), "LIKE wildcards match literally");
    let view = console.search(&m, "  ".into()).await.expect("search");
    assert!(view.people.is_empty() && view.query.is_empty());

    // An invited address without an account is found by its invitations.
    let invitee = Invitee {
        email: "newcomer@example.org".into(),
        issuer: String::new(),
        language: Locale::Fr,
    };
    invitations::invite(&desk.test.sesame, &invitee, "test")
        .await
        .expect("invite");
    let view = console
        .search(&m, "Newcomer@example.org".into())
        .await
        .expect("search");
    assert!(view.people.is_empty());
    assert_eq!(view.invitations.len(), 1);
    assert_eq!(view.invitations[0].state, "pending");

    let page = console
        .person(&m, desk.target_id.clone())
        .await
        .expect("person");
    assert_eq!(page.person.login, "helped");
    assert_eq!(page.person.state, "active");
    assert_eq!(
        page.methods.recovery_email.as_deref(),
        Some("j***@example.net")
    );
    assert_eq!(page.sessions, 1);
    assert!(!page.is_self);
    assert!(page.linked.is_empty());
    sesame::store::linked_accounts::link(
        pool,
        &desk.target_id,
        "campus-ldap",
        "jroy",
        "campus-ldap:jroy",
        desk.test.sesame.clock.now_secs(),
    )
    .await
    .expect("link");
    let page = console
        .person(&m, desk.target_id.clone())
        .await
        .expect("person");
    assert_eq!(page.linked.len(), 1);
    assert_eq!(
        (
            page.linked[0].system.en.as_str(),
            page.linked[0].account.as_str()
        ),
        // A system no longer configured is named by its id.
        ("campus-ldap", "jroy")
    );
    assert!(page.events.iter().any(|e| e.kind == "person.created"));
    let own = console
        .person(&m, desk.agent_id.clone())
        .await
        .expect("person");
    assert!(own.is_self);
    assert_eq!(
        console.person(&m, "nobody".into()).await,
        Err(AppError::Refused(Msg::HelpdeskPersonUnknown))
    );
}

#[tokio::test]
async fn a_reason_is_required_and_the_agents_own_account_is_refused() {
    let desk = desk().await;
    for reason in ["", "   "] {
        assert_eq!(
            desk.on_target(HelpdeskAction::EndSessions, reason).await,
            ActOutcome::Refused(Msg::HelpdeskReasonRequired)
        );
    }
    let own = desk
        .act(
            &desk.agent,
            ActTarget::Person(desk.agent_id.clone()),
            HelpdeskAction::EndSessions,
            "testing",
        )
        .await
        .expect("act");
    assert_eq!(own, ActOutcome::Refused(Msg::HelpdeskSelf));
    let own_invitation = desk
        .act(
            &desk.agent,
            ActTarget::Invitation("Agent@example.org".into()),
            HelpdeskAction::RevokeInvitation,
            "testing",
        )
        .await
        .expect("act");
    assert_eq!(own_invitation, ActOutcome::Refused(Msg::HelpdeskSelf));
    let pool = &desk.test.sesame.store.pool;
    assert_eq!(
        sessions::count_for(pool, &desk.agent_id)
            .await
            .expect("count"),
        1,
        "nothing was done"
    );
    assert_eq!(
        sessions::count_for(pool, &desk.target_id)
            .await
            .expect("count"),
        1
    );
}

#[tokio::test]
async fn questions_are_disabled_and_sessions_ended_with_the_agent_in_the_audit_trail() {
    let desk = desk().await;
    let pool = &desk.test.sesame.store.pool;
    let questions = QuestionsFlow(desk.test.sesame.clone());
    let saved = questions
        .save(
            &meta(Some(&desk.target_token)),
            QuestionsForm {
                question: vec!["birth-city".into(), "first-pet".into(), "custom".into()],
                custom: vec![String::new(), String::new(), "My nickname at camp?".into()],
                answer: vec!["Rimouski".into(), "Filou".into(), "La Fouine".into()],
            },
        )
        .await
        .expect("save");
    assert_eq!(saved, None);
    let page = desk
        .console()
        .person(&meta(Some(&desk.agent)), desk.target_id.clone())
        .await
        .expect("person");
    assert!(page.methods.questions);

    assert_eq!(
        desk.on_target(
            HelpdeskAction::DisableQuestions,
            "forgot the answers, checked by phone"
        )
        .await,
        ActOutcome::Done
    );
    assert!(
        sesame::store::questions::list(pool, &desk.target_id)
            .await
            .expect("list")
            .is_empty()
    );
    let event = desk
        .audited(
            Some(&desk.target_id),
            "security_questions",
            "forgot the answers",
        )
        .await;
    assert_eq!(event.actor_id.as_deref(), Some(desk.agent_id.as_str()));
    assert!(event.detail.contains("forgot the answers"), "{event:?}");
    // The page gets the outcome as a code it translates, never the detail's free text.
    let page = desk
        .console()
        .person(&meta(Some(&desk.agent)), desk.target_id.clone())
        .await
        .expect("person");
    let line = page
        .events
        .iter()
        .find(|e| e.kind == "security_questions")
        .expect("the questions' removal in the trail");
    assert_eq!(line.outcome_parts(), Some(("disabled", None)));
    assert_eq!((line.step.as_deref(), line.by_other), (None, true));
    assert_eq!(
        helpdesk::outcome_name("disabled"),
        Some(Msg::AuditOutcomeDisabled)
    );
    assert_eq!(
        desk.on_target(HelpdeskAction::DisableQuestions, "again")
            .await,
        ActOutcome::Refused(Msg::HelpdeskNoQuestions)
    );

    assert_eq!(
        desk.on_target(HelpdeskAction::EndSessions, "phone stolen")
            .await,
        ActOutcome::Done
    );
    assert_eq!(
        sessions::count_for(pool, &desk.target_id)
            .await
            .expect("count"),
        0
    );
    let event = desk
        .audited(
            Some(&desk.target_id),
            "helpdesk.sessions_ended",
            "phone stolen",
        )
        .await;
    assert_eq!(event.actor_id.as_deref(), Some(desk.agent_id.as_str()));
}

#[tokio::test]
async fn unlock_clears_the_persons_lockouts() {
    let desk = desk().await;
    let sesame = &desk.test.sesame;
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    let rule = Rule {
        limit: 1,
        window_secs: 600,
        lockout_secs: 3600,
    };
    let key = format!(
        "signin:login:{}",
        sesame.key.keyed_hash("throttle", "helped")
    );
    let email_key = format!("email-change:person:{}", desk.target_id);
    throttle::record_failures(pool, &[(&key, rule), (&email_key, rule)], now)
        .await
        .expect("lock");
    let page = desk
        .console()
        .person(&meta(Some(&desk.agent)), desk.target_id.clone())
        .await
        .expect("person");
    assert_eq!(page.locks, 2);

    assert_eq!(
        desk.on_target(HelpdeskAction::Unlock, "locked out, identity checked")
            .await,
        ActOutcome::Done
    );
    assert_eq!(
        throttle::locked_for_any(pool, &[&key, &email_key], now)
            .await
            .expect("locked"),
        None
    );
    let event = desk
        .audited(
            Some(&desk.target_id),
            "helpdesk.unlocked",
            "identity checked",
        )
        .await;
    assert_eq!(event.actor_id.as_deref(), Some(desk.agent_id.as_str()));
    assert!(event.detail.contains("identity checked"));
}

#[tokio::test]
async fn a_new_letter_is_shown_once_and_revokes_the_previous_one() {
    let desk = desk().await;
    let sesame = &desk.test.sesame;
    let pending = common::pending_with_letter(
        sesame,
        "newhire",
        ("Léa", "Pinard"),
        Category::TemporaryStaff,
        "OLD2-OLD3-OLD4-OLD5",
    )
    .await;
    let outcome = desk
        .act(
            &desk.agent,
            ActTarget::Person(pending.clone()),
            HelpdeskAction::IssueLetter,
            "lost the letter",
        )
        .await
        .expect("act");
    let ActOutcome::Letter { flow } = outcome else {
        panic!("{outcome:?}");
    };
    let event = desk
        .audited(Some(&pending), "letter.issued", "lost the letter")
        .await;
    assert_eq!(event.actor_id.as_deref(), Some(desk.agent_id.as_str()));
    assert!(event.detail.contains("lost the letter"));

    let console = desk.console();
    // Another browser, or someone without the role, cannot open it.
    let mut elsewhere = meta(Some(&desk.agent));
    elsewhere.device_id = "another-browser".into();
    let view = console
        .letter(&elsewhere, flow.clone())
        .await
        .expect("view");
    assert_eq!(view.html, None);
    let view = console
        .letter(&meta(Some(&desk.agent)), flow.clone())
        .await
        .expect("view");
    let html = view.html.expect("the letter, once");
    assert!(html.contains("newhire"), "{html}");
    let password = html
        .split("class=\"password\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("password in the letter")
        .to_owned();
    assert_eq!(password.len(), 19, "{password}");
    let stored: String = sqlx::query_scalar("SELECT provisional_hash FROM people WHERE id = $1")
        .bind(&pending)
        .fetch_one(&sesame.store.pool)
        .await
        .expect("hash");
    assert!(stored.starts_with("$argon2id$"));
    assert!(
        sesame
            .hasher
            .verify(Some(stored.as_str()), &password)
            .await
            .expect("verify"),
        "the letter's password is the one stored hashed"
    );
    let flows: Vec<String> = sqlx::query_scalar("SELECT data FROM flows WHERE id = $1")
        .bind(&flow)
        .fetch_all(&sesame.store.pool)
        .await
        .expect("flow");
    assert!(flows.iter().all(|d| !d.contains(&password)));
    let again = console
        .letter(&meta(Some(&desk.agent)), flow)
        .await
        .expect("view");
    assert_eq!(again.html, None, "never shown twice");
}

#[tokio::test]
async fn invitations_are_resent_and_revoked_with_a_reason() {
    let desk = desk().await;
    let sesame = &desk.test.sesame;
    let email = "guest@example.org";
    let nothing = desk
        .act(
            &desk.agent,
            ActTarget::Invitation(email.into()),
            HelpdeskAction::ResendInvitation,
            "asked by phone",
        )
        .await
        .expect("act");
    assert_eq!(
        nothing,
        ActOutcome::Refused(Msg::HelpdeskInvitationNoneSent)
    );
    let invitee = Invitee {
        email: email.into(),
        issuer: "Research office".into(),
        language: Locale::En,
    };
    invitations::invite(sesame, &invitee, "test")
        .await
        .expect("invite");
    let resent = desk
        .act(
            &desk.agent,
            ActTarget::Invitation("Guest@Example.org".into()),
            HelpdeskAction::ResendInvitation,
            "mail lost",
        )
        .await
        .expect("act");
    assert_eq!(resent, ActOutcome::Done);
    let view = desk
        .console()
        .invitation(&meta(Some(&desk.agent)), email.into())
        .await
        .expect("view");
    let mut states: Vec<&str> = view.invitations.iter().map(|i| i.state.as_str()).collect();
    states.sort_unstable();
    assert_eq!(states, ["pending", "replaced"]);
    let event = desk.audited(None, "invitation", "mail lost").await;
    assert_eq!(event.actor_id.as_deref(), Some(desk.agent_id.as_str()));

    let revoked = desk
        .act(
            &desk.agent,
            ActTarget::Invitation(email.into()),
            HelpdeskAction::RevokeInvitation,
            "sent to the wrong person",
        )
        .await
        .expect("act");
    assert_eq!(revoked, ActOutcome::Done);
    let again = desk
        .act(
            &desk.agent,
            ActTarget::Invitation(email.into()),
            HelpdeskAction::RevokeInvitation,
            "sent to the wrong person",
        )
        .await
        .expect("act");
    assert_eq!(
        again,
        ActOutcome::Refused(Msg::HelpdeskInvitationNonePending)
    );
    let event = desk.audited(None, "invitation", "wrong person").await;
    assert_eq!(event.actor_id.as_deref(), Some(desk.agent_id.as_str()));
}

// ---- Through the router, as a browser without JavaScript. ----

/// A browser's cookies: its device, its language (English), and a session if any.
fn cookies(session: Option<&str>) -> String {
    let mut cookies = vec![
        "sesame-device=0123456789abcdef0123456789abcdef".to_owned(),
        "sesame-lang=en".to_owned(),
    ];
    if let Some(token) = session {
        cookies.push(format!("sesame-session={token}"));
    }
    cookies.join("; ")
}

async fn get(router: &Router, path: &str, session: Option<&str>) -> (Response<Body>, String) {
    let request = Request::get(path)
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, cookies(session))
        .body(Body::empty())
        .expect("request");
    send(router, request).await
}

async fn post_form(
    router: &Router,
    path: &str,
    session: Option<&str>,
    fields: &[(&str, &str)],
) -> (Response<Body>, String) {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let request = Request::post(path)
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, "http://127.0.0.1:3000")
        .header(header::COOKIE, cookies(session))
        .body(Body::from(body))
        .expect("request");
    send(router, request).await
}

#[tokio::test]
async fn the_console_pages_answer_403_to_people_without_the_role_and_send_visitors_to_sign_in() {
    let _one_at_a_time = one_at_a_time().await;
    let desk = desk().await;
    let router = router(desk.test.sesame.clone(), leptos_options());
    let person = format!("/helpdesk/person/{}", desk.target_id);
    let pages = [
        "/helpdesk",
        "/helpdesk?q=helped",
        person.as_str(),
        "/helpdesk/letter?flow=nothing",
        "/helpdesk/invitation?email=x%40example.org",
    ];
    for page in pages {
        let (response, html) = get(&router, page, Some(&desk.other)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{page}");
        assert!(html.contains("Access denied"), "{page}: {html}");
        let (response, _) = get(&router, page, None).await;
        assert!(response.status().is_redirection(), "{page}");
        assert_eq!(location(&response), "/signin", "{page}");
        let (response, _) = get(&router, page, Some(&desk.agent)).await;
        assert_eq!(response.status(), StatusCode::OK, "{page}");
    }

    // The agent's page has the action forms; posted by someone else, they are refused.
    let (_, html) = get(&router, &person, Some(&desk.agent)).await;
    assert!(html.contains("End all sessions"), "{html}");
    let token = csrf(&html);
    let action = form_action(&html, "helpdesk_act");
    let fields = [
        ("csrf", token.as_str()),
        ("action", "sessions"),
        ("person", desk.target_id.as_str()),
        ("reason", "phone stolen"),
    ];
    let (response, _) = post_form(&router, &action, Some(&desk.other), &fields).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (response, _) = post_form(&router, &action, None, &fields).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        sessions::count_for(&desk.test.sesame.store.pool, &desk.target_id)
            .await
            .expect("count"),
        1
    );

    // Without a reason: back to the page, which says so at the field.
    let no_reason = [
        ("csrf", token.as_str()),
        ("action", "sessions"),
        ("person", desk.target_id.as_str()),
        ("reason", " "),
    ];
    let (response, _) = post_form(&router, &action, Some(&desk.agent), &no_reason).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = location(&response);
    assert!(back.contains("error=helpdesk.reason_required"), "{back}");
    let (_, html) = get(&router, &back, Some(&desk.agent)).await;
    assert!(html.contains("Give the reason for this action."), "{html}");
    assert!(html.contains("href=\"#sessions_reason\""), "{html}");

    // With one: done, and the page after the redirect says so.
    let (response, _) = post_form(&router, &action, Some(&desk.agent), &fields).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let done = location(&response);
    assert_eq!(done, format!("{person}?done=sessions"));
    let (_, html) = get(&router, &done, Some(&desk.agent)).await;
    assert!(html.contains("All sessions were ended."), "{html}");
    assert_eq!(
        sessions::count_for(&desk.test.sesame.store.pool, &desk.target_id)
            .await
            .expect("count"),
        0
    );
    let event = desk
        .audited(
            Some(&desk.target_id),
            "helpdesk.sessions_ended",
            "phone stolen",
        )
        .await;
    assert_eq!(event.actor_id.as_deref(), Some(desk.agent_id.as_str()));

    // The account menu links to the console for agents only.
    let (_, html) = get(&router, "/account", Some(&desk.agent)).await;
    assert!(html.contains("href=\"/helpdesk\""));
    let (_, html) = get(&router, "/account", Some(&desk.other)).await;
    assert!(!html.contains("href=\"/helpdesk\""));
}

#[tokio::test]
async fn agents_act_only_on_people_below_their_own_role() {
    let desk = desk().await;
    let pool = &desk.test.sesame.store.pool;
    let peer_token = signed_in(&desk.test, "peer", Category::PermanentStaff).await;
    let peer_id = person_id(&desk.test, "peer").await;
    roles::grant(pool, &peer_id, roles::Role::Helpdesk, "test", 0)
        .await
        .expect("grant");
    let admin_token = signed_in(&desk.test, "chief", Category::PermanentStaff).await;
    let admin_id = person_id(&desk.test, "chief").await;
    roles::grant(pool, &admin_id, roles::Role::Admin, "test", 0)
        .await
        .expect("grant");

    // A helpdesk agent cannot end a fellow agent's or an administrator's sessions...
    for target in [&peer_id, &admin_id] {
        let outcome = desk
            .act(
                &desk.agent,
                ActTarget::Person(target.clone()),
                HelpdeskAction::EndSessions,
                "testing",
            )
            .await
            .expect("act");
        assert_eq!(outcome, ActOutcome::Refused(Msg::HelpdeskPeer));
        assert_eq!(sessions::count_for(pool, target).await.expect("count"), 1);
    }
    // ...an administrator can end an agent's, not another administrator's.
    let outcome = desk
        .act(
            &admin_token,
            ActTarget::Person(peer_id.clone()),
            HelpdeskAction::EndSessions,
            "left the team",
        )
        .await
        .expect("act");
    assert_eq!(outcome, ActOutcome::Done);
    assert_eq!(sessions::count_for(pool, &peer_id).await.expect("count"), 0);
    let other_admin = signed_in(&desk.test, "chief2", Category::PermanentStaff).await;
    let other_admin_id = person_id(&desk.test, "chief2").await;
    roles::grant(pool, &other_admin_id, roles::Role::Admin, "test", 0)
        .await
        .expect("grant");
    let outcome = desk
        .act(
            &admin_token,
            ActTarget::Person(other_admin_id.clone()),
            HelpdeskAction::EndSessions,
            "testing",
        )
        .await
        .expect("act");
    assert_eq!(outcome, ActOutcome::Refused(Msg::HelpdeskPeer));
    drop((peer_token, other_admin));
}

#[tokio::test]
async fn a_letter_for_an_active_account_sends_it_back_to_activation() {
    let desk = desk().await;
    let sesame = &desk.test.sesame;
    let pool = &sesame.store.pool;
    let outcome = desk
        .on_target(
            HelpdeskAction::IssueLetter,
            "nothing left to prove who she is",
        )
        .await;
    let ActOutcome::Letter { flow } = outcome else {
        panic!("{outcome:?}");
    };
    let (state, password_hash): (String, Option<String>) =
        sqlx::query_as("SELECT state, password_hash FROM people WHERE id = $1")
            .bind(&desk.target_id)
            .fetch_one(pool)
            .await
            .expect("person");
    assert_eq!(state, "pending");
    assert_eq!(password_hash, None, "the old password stops working");
    assert_eq!(
        sessions::count_for(pool, &desk.target_id)
            .await
            .expect("count"),
        0,
        "every session ended"
    );
    let event = desk
        .audited(Some(&desk.target_id), "letter.issued", "nothing left")
        .await;
    assert!(
        event.detail.contains("\"account_reset\":true"),
        "{}",
        event.detail
    );
    let view = desk
        .console()
        .letter(&meta(Some(&desk.agent)), flow)
        .await
        .expect("view");
    let html = view.html.expect("the letter");
    let password = html
        .split("class=\"password\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("password in the letter")
        .to_owned();
    // The person activates again with it.
    let activation = sesame::flows::activation::ActivationFlow(sesame.clone());
    let m = meta(None);
    let started = activation
        .submit(
            &m,
            None,
            ActivationInput::Login {
                login: "helped".into(),
            },
        )
        .await
        .expect("login");
    let flow = activation
        .submit(
            &m,
            Some(started),
            ActivationInput::ProvisionalPassword { password },
        )
        .await
        .expect("provisional");
    let view = activation.view(&m, Some(flow)).await.expect("view");
    assert_eq!(view.error, None, "{view:?}");
    assert_ne!(view.step, ActivationStep::Login);
    assert_ne!(view.step, ActivationStep::ProvisionalPassword);
}
