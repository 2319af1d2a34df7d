//! `sesame serve`: migrate, start the outbox worker, the linked accounts' retries and the
//! daily purge, serve HTTP until stopped.

use std::{net::SocketAddr, sync::Arc};

use axum::serve::ListenerExt;
use clap::Args;

use crate::{
    clock::SystemClock,
    config::Config,
    demo, http, linked,
    mail::{transport, worker::Worker},
    maintenance,
    state::Sesame,
};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (default: `site-addr` of Leptos.toml, or LEPTOS_SITE_ADDR).
    #[arg(long)]
    addr: Option<SocketAddr>,
    /// Demo institution, demo people, and the demo mailbox at /dev/mailbox.
    #[arg(long)]
    demo: bool,
}

pub async fn run(mut config: Config, args: ServeArgs) -> Result<(), String> {
    if args.demo {
        demo::apply_demo_institution(&mut config);
    }
    let transport = transport::from_config(&config)?;
    let sesame = Sesame::start(config, Arc::new(SystemClock), args.demo)
        .await
        .map_err(|e| e.to_string())?;
    if args.demo {
        demo::seed(&sesame).await.map_err(|e| e.to_string())?;
    }
    tokio::spawn(
        Worker {
            store: sesame.store.clone(),
            transport,
            clock: sesame.clock.clone(),
            config: sesame.config.mail.clone(),
            outbox: sesame.outbox.clone(),
        }
        .run(),
    );
    // Passwords that linked accounts did not take at once: retried until delivered.
    tokio::spawn(linked::run_retries(sesame.clone()));
    tokio::spawn(maintenance::run_daily(sesame.clone()));

    let leptos_options = http::leptos_options();
    let addr = args.addr.unwrap_or(leptos_options.site_addr);
    let router = http::router(sesame.clone(), leptos_options.clone());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?
        // Static files go out in two writes (headers, then body): without TCP_NODELAY,
        // Nagle's algorithm holds the second until the client's delayed ACK (about 40 ms).
        .tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "TCP_NODELAY not set");
            }
        });
    println!(
        "Sésame is listening on http://{addr} (public URL {})",
        sesame.config.public_url
    );
    println!(
        "  site assets: {}",
        http::site_root(&leptos_options).display()
    );
    if args.demo {
        println!("  demo mode: sign in at http://{addr}/signin as one of");
        for (login, ..) in demo::DEMO_PEOPLE {
            println!("    {login}");
        }
        println!("  with the password {}", demo::DEMO_PASSWORD);
        println!("  demo mailbox: http://{addr}/dev/mailbox");
        let (retiree, employee_number, pin, born, sin) = demo::DEMO_RETIREE_FACTS;
        println!(
            "  forgot username: {retiree} is employee {employee_number}, PIN {pin} (or born {born}, SIN ending {sin})"
        );
        let newcomers: Vec<&str> = demo::DEMO_NEWCOMERS.iter().map(|p| p.0).collect();
        println!(
            "  to try activation ({} wait for a letter): sesame admin letters --new --out var/letters.html, then http://{addr}/activate",
            newcomers.join(", ")
        );
    }
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
