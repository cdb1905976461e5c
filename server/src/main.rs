//! `kubernaut-context`: the combined Kubernaut Context API server and its CLI.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use app::app::{App, shell};
use app::state::AppState;
use axum::Router;
use clap::{Parser, Subcommand};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

#[derive(Parser, Debug)]
#[command(name = "kubernaut-context", version, about = "Kubernaut Context API: action history, pattern analysis and discovery for HolmesGPT", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the Context API and the web app (the default).
    Serve(ServeArgs),
}

#[derive(clap::Args, Debug, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KUBERNAUT_CONTEXT_ADDR", default_value = "127.0.0.1:8091")]
    addr: SocketAddr,
    /// Directory of the embedded store.
    #[arg(long, env = "KUBERNAUT_CONTEXT_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Directory with the built web assets (cargo-leptos's site root).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    site_root: String,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(a)) => a,
        None => cli.serve,
    };
    if let Err(e) = serve(args).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let store = store_local::LocalStore::open(&args.data_dir).map_err(|e| e.to_string())?;
    let state = AppState {
        store: Arc::new(store),
        version: env!("CARGO_PKG_VERSION"),
    };
    let leptos_options = LeptosOptions::builder()
        .output_name("kubernaut-context")
        .site_root(args.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(args.addr)
        .build();
    let routes = generate_route_list(App);
    let ctx_state = state.clone();
    let app = Router::new()
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || provide_context(ctx_state.clone()),
            {
                let o = leptos_options.clone();
                move || shell(o.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    tracing::info!("listening on http://{}", args.addr);
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}
