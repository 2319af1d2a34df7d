//! Mail through the real SMTP transport, to a real SMTP server process (aiosmtpd, from
//! PyPI, installed by scripts/install-tools.sh), in both languages; and a message queued
//! while the server is down is retried and delivered later, not lost.

mod common;

use app::i18n::Locale;
use common::{process::free_port, smtp::SmtpServer};
use jiff::SignedDuration;
use sesame::{
    config::SmtpConfig,
    mail::{
        templates,
        transport::SmtpTransport,
        worker::{PassReport, Worker},
    },
    store::outbox,
};

fn decoded_subjects(messages: &[String]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|raw| mail_parser::MessageParser::default().parse(raw.as_bytes()))
        .filter_map(|m| m.subject().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn smtp_delivers_in_both_languages_and_retries_when_the_server_is_down() {
    let test = common::TestSesame::new(|_| {}).await;
    let sesame = &test.sesame;
    let port = free_port();
    let maildir = test.dir.path().join("maildir");
    let server = SmtpServer::start(port, &maildir);
    let smtp = SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: "none".into(),
        timeout_secs: 5,
        ..Default::default()
    };
    let worker = Worker {
        store: sesame.store.clone(),
        transport: Box::new(SmtpTransport::new(&smtp).expect("transport")),
        clock: test.clock.clone(),
        config: sesame.config.mail.clone(),
        outbox: sesame.outbox.clone(),
    };

    for (locale, to) in [
        (Locale::Fr, "marie@example.org"),
        (Locale::En, "alex@example.org"),
    ] {
        let mail = templates::test_message(locale, "Université d'essai");
        sesame
            .outbox
            .enqueue(
                &sesame.store.pool,
                to,
                &mail,
                sesame::clock::Clock::now_secs(test.clock.as_ref()),
            )
            .await
            .expect("enqueue");
    }
    assert_eq!(
        worker.pass().await.expect("pass"),
        PassReport {
            sent: 2,
            retried: 0,
            given_up: 0
        }
    );
    let delivered = server.delivered();
    assert_eq!(delivered.len(), 2, "both messages reached the SMTP server");
    let subjects = decoded_subjects(&delivered);
    assert!(
        subjects.contains(&"Sésame : message d'essai".to_owned()),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&"Sésame: test message".to_owned()),
        "{subjects:?}"
    );
    assert!(
        delivered
            .iter()
            .all(|m| m.contains("multipart/alternative")),
        "text and HTML parts"
    );

    // The server goes down: the message waits in the outbox.
    server.stop();
    let mail = templates::test_message(Locale::Fr, "Université d'essai");
    let id = sesame
        .outbox
        .enqueue(
            &sesame.store.pool,
            "late@example.org",
            &mail,
            sesame::clock::Clock::now_secs(test.clock.as_ref()),
        )
        .await
        .expect("enqueue");
    assert_eq!(
        worker.pass().await.expect("pass"),
        PassReport {
            sent: 0,
            retried: 1,
            given_up: 0
        }
    );
    let row = outbox::find(&sesame.store.pool, &id)
        .await
        .expect("find")
        .expect("row");
    assert_eq!((row.state.as_str(), row.attempts), ("pending", 1));
    assert!(row.last_error.is_some());
    assert_eq!(
        worker.pass().await.expect("pass"),
        PassReport::default(),
        "not retried before its time"
    );

    // It comes back; after the backoff the message goes out.
    let server = SmtpServer::start(port, &maildir);
    test.clock.advance(SignedDuration::from_secs(60));
    assert_eq!(
        worker.pass().await.expect("pass"),
        PassReport {
            sent: 1,
            retried: 0,
            given_up: 0
        }
    );
    assert_eq!(server.delivered().len(), 3);
    let row = outbox::find(&sesame.store.pool, &id)
        .await
        .expect("find")
        .expect("row");
    assert_eq!(row.state, "sent");
    assert_eq!(row.text_body, "", "sent bodies are not kept");
    server.stop();
}
