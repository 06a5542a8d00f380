//! `pin-lsp`: the pin-lint language server over stdio.
//!
//! Diagnostics from the same rules as the CLI, quick fixes that pin or bump digests, hovers
//! with what a reference points to. Logs go to stderr only; stdout carries the protocol.

mod actions;
mod diagnostics;
mod hover;
mod lookup;
mod positions;
mod server;
mod session;
mod settings;
mod templates;
mod transport;
mod workspace;

use anyhow::Context as _;
use tower_lsp_server::{LspService, Server};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{reload, EnvFilter};

/// Handlers in flight at once. Above tower-lsp-server's default of 4 so that a slow command
/// (a workspace bump waiting for registries) never holds up document changes.
const CONCURRENCY: usize = 16;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    if let Some(arg) = args.next() {
        match arg.as_str() {
            "--version" | "-V" => {
                println!("pin-lsp {}", env!("CARGO_PKG_VERSION"));
                return Ok(());
            }
            "--help" | "-h" => {
                println!(
                    "pin-lsp {}: the pin-lint language server; speaks LSP over stdio.\n\n\
                     Usage: pin-lsp [--stdio]\n\n\
                     Logs go to stderr; the level comes from the `logLevel` setting, else\n\
                     PIN_LSP_LOG (a tracing filter such as `debug`), else `info`.",
                    env!("CARGO_PKG_VERSION")
                );
                return Ok(());
            }
            // What editors pass by convention; stdio is the only transport.
            "--stdio" => {}
            other => anyhow::bail!("unknown argument `{other}` (try --help)"),
        }
    }
    let initial = std::env::var("PIN_LSP_LOG").unwrap_or_else(|_| "info".to_string());
    let filter = EnvFilter::try_new(&initial).unwrap_or_else(|_| EnvFilter::new("info"));
    let (filter, handle) = reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false),
        )
        .init();
    let set_log_level: session::SetLogLevel = Box::new(move |level: &str| {
        let filter = EnvFilter::try_new(level).map_err(|e| e.to_string())?;
        handle.reload(filter).map_err(|e| e.to_string())
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let (input, output, outbox) =
            transport::guarded_stdio().context("cannot set up the connection on stdio")?;
        let (service, socket) =
            LspService::new(move |client| server::Backend::new(client, outbox, set_log_level));
        Server::new(input, output, socket)
            .concurrency_level(CONCURRENCY)
            .serve(service)
            .await;
        anyhow::Ok(())
    })?;
    // Background lookups may still hold the runtime; do not wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(())
}
