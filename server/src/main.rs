//! `kubernaut-context`: the combined Kubernaut Context API server and its CLI.
//!
//! Every flag can also be set through the environment variable shown in `--help`
//! (`KUBERNAUT_CONTEXT_<FLAG>`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use app::app::{App, shell};
use app::state::AppState;
use axum::Router;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use context_api::{ApiConfig, ApiSettings, ApiState, DynamoSettings, RouteGroup};
use context_core::Store;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

mod assets;
mod export_cmd;
mod generate_cmd;
mod import;
mod logging;
mod serving;

#[derive(Parser, Debug)]
#[command(
    name = "kubernaut-context",
    version,
    about = "Kubernaut Context API: action history, pattern analysis and discovery for HolmesGPT",
    long_about = "Kubernaut Context API: action history, pattern analysis and discovery for HolmesGPT.\n\n\
        Without a subcommand, `serve` runs. Every flag can also be set through the environment \
        variable shown with it. The API lives under /api/v1/context (OpenAPI document at \
        /api/v1/openapi.json, Prometheus metrics at /metrics); the web app is served at /.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// Log format on standard error [default: text when it is a terminal, else json].
    #[arg(long, global = true, env = "KUBERNAUT_CONTEXT_LOG_FORMAT", value_enum)]
    log_format: Option<logging::LogFormat>,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the Context API and the web app (the default).
    Serve(ServeArgs),
    /// Import action traces from an NDJSON file (one trace per line, as POSTed to
    /// /api/v1/context/action-history). Idempotent: re-running skips traces already stored.
    Import(ImportArgs),
    /// Store a deterministic demo history (idempotent: re-running adds nothing).
    SeedDemo(SeedArgs),
    /// Write the action history (filtered as `GET /api/v1/context/action-history`) as
    /// CSV or NDJSON, newest first, to standard output or --output.
    Export(ExportCmd),
    /// Print the HolmesGPT toolset file for this Context API (or, with
    /// --config-snippet, the HolmesGPT config snippet enabling the built-in toolsets).
    Toolset(generate_cmd::ToolsetArgs),
    /// Print Kubernetes manifests deploying HolmesGPT (and optionally this API).
    Manifests(generate_cmd::ManifestsArgs),
    /// Print a podman script running HolmesGPT (and optionally this API) locally.
    Podman(generate_cmd::PodmanArgs),
}

/// Which store backs the API.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum StoreKind {
    /// Embedded SQLite file under --data-dir.
    Local,
    /// An Amazon DynamoDB table (--dynamodb-table).
    Dynamodb,
}

#[derive(Args, Debug, Clone)]
struct StoreArgs {
    /// Store backend [default: local; also read from KUBERNAUT_STORE].
    #[arg(long, env = "KUBERNAUT_CONTEXT_STORE", value_enum)]
    store: Option<StoreKind>,
    /// Directory of the embedded store (--store local).
    #[arg(long, env = "KUBERNAUT_CONTEXT_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    #[command(flatten)]
    dynamodb: DynamoSettings,
    /// Create the DynamoDB table when it does not exist (for local emulators; in AWS the
    /// infrastructure template creates it).
    #[arg(
        long,
        env = "KUBERNAUT_CONTEXT_DYNAMODB_CREATE_TABLE",
        action = ArgAction::SetTrue,
        value_parser = context_api::settings::parse_bool
    )]
    dynamodb_create_table: bool,
}

#[derive(Args, Debug, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KUBERNAUT_CONTEXT_ADDR", default_value = "127.0.0.1:8091")]
    addr: SocketAddr,
    #[command(flatten, next_help_heading = "Store")]
    store: StoreArgs,
    #[command(flatten, next_help_heading = "API")]
    api: ApiSettings,
    /// Directory with the built web assets (cargo-leptos's site root).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    site_root: String,
    /// The build's hash file (hashed asset names), relative to the binary's directory
    /// unless absolute; without it, or when it names files the site lacks, the page links
    /// the plain names.
    #[arg(long, env = "LEPTOS_HASH_FILE_NAME", default_value = "hash.txt")]
    hash_file: String,
}

#[derive(Args, Debug, Clone)]
struct ImportArgs {
    /// NDJSON file of traces ("-" reads standard input).
    file: PathBuf,
    #[command(flatten, next_help_heading = "Store")]
    store: StoreArgs,
    /// Action types accepted besides the canonical ones (comma-separated).
    #[arg(
        long,
        env = "KUBERNAUT_CONTEXT_EXTRA_ACTION_TYPES",
        value_delimiter = ','
    )]
    extra_action_types: Vec<String>,
}

#[derive(Args, Debug, Clone)]
struct ExportCmd {
    #[command(flatten)]
    export: export_cmd::ExportArgs,
    #[command(flatten, next_help_heading = "Store")]
    store: StoreArgs,
}

#[derive(Args, Debug, Clone)]
struct SeedArgs {
    #[command(flatten, next_help_heading = "Store")]
    store: StoreArgs,
    /// Seed of the generator (same seed, same history).
    #[arg(long, env = "KUBERNAUT_CONTEXT_SEED", default_value_t = 42)]
    seed: u64,
    /// Remove the demo history instead (every trace whose action_id starts with
    /// "demo-"), keeping everything else.
    #[arg(long)]
    remove: bool,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let result = match cli.command {
        Some(Command::Serve(a)) => serve(a).await,
        None => serve(cli.serve).await,
        Some(Command::Import(a)) => run_import(a).await,
        Some(Command::SeedDemo(a)) => seed_demo(a).await,
        Some(Command::Export(a)) => match service(&a.store).await {
            Ok(s) => export_cmd::run(&s, &a.export).await.map(|_| ()),
            Err(e) => Err(e),
        },
        Some(Command::Toolset(a)) => generate_cmd::run_toolset(&a),
        Some(Command::Manifests(a)) => generate_cmd::run_manifests(&a),
        Some(Command::Podman(a)) => generate_cmd::run_podman(&a),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// `--store`, else the older variable KUBERNAUT_STORE, else local.
fn store_kind(args: &StoreArgs) -> Result<StoreKind, String> {
    if let Some(k) = args.store {
        return Ok(k);
    }
    match std::env::var("KUBERNAUT_STORE").ok().as_deref() {
        None | Some("") => Ok(StoreKind::Local),
        Some(v) => StoreKind::from_str(v, true).map_err(|_| {
            format!("KUBERNAUT_STORE: unknown store {v:?} (expected local or dynamodb)")
        }),
    }
}

async fn open_store(args: &StoreArgs) -> Result<Arc<dyn Store>, String> {
    match store_kind(args)? {
        StoreKind::Local => {
            let s = store_local::LocalStore::open(&args.data_dir).map_err(|e| {
                format!(
                    "cannot open the embedded store in {}: {e}",
                    args.data_dir.display()
                )
            })?;
            Ok(Arc::new(s))
        }
        StoreKind::Dynamodb => {
            let s = context_functions::dynamo_store(&args.dynamodb).await?;
            if args.dynamodb_create_table {
                s.create_table_if_missing()
                    .await
                    .map_err(|e| format!("cannot create the DynamoDB table: {e}"))?;
            }
            Ok(Arc::new(s))
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let config = ApiConfig::from_settings(args.api)?;
    if config.write_tokens.is_empty() {
        tracing::warn!(
            "no API tokens configured: writes are refused (set KUBERNAUT_CONTEXT_TOKENS or --token)"
        );
    }
    let store = open_store(&args.store).await?;
    let api_state = ApiState::new(store, config);
    // The web app's server functions call the same use-case layer as the API, and sign
    // page links with the API's cursor key.
    let state = AppState {
        service: api_state.service.clone(),
        cursor: api_state.config.cursor_codec(),
        version: env!("CARGO_PKG_VERSION"),
        action_types: api_state.config.action_types.clone(),
        function_urls: app::apidocs::FunctionUrls {
            urls: (api_state.config.function_urls.by_name().iter())
                .map(|(f, u)| (f.to_string(), u.map(str::to_string)))
                .collect(),
        },
    };
    let site_assets = assets::resolve(
        std::path::Path::new(&args.site_root),
        "pkg",
        "kubernaut-context",
        assets::hash_file_path(&args.hash_file),
    );
    let leptos_options = LeptosOptions::builder()
        .output_name("kubernaut-context")
        .site_root(args.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(args.addr)
        .hash_files(site_assets.hashed)
        .hash_file(site_assets.hash_file.to_string_lossy().into())
        .build();
    let routes = generate_route_list(App);
    let ctx_state = state.clone();
    let web = Router::new()
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
    let app = context_api::router_with_fallback(api_state, &RouteGroup::ALL, web);
    let app = serving::cache_headers(app, "pkg", site_assets.immutable);
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Running as an AWS Lambda function (web app + every endpoint behind one URL):
        // same router, invocations from the Lambda runtime API instead of a socket.
        return context_functions::serve("kubernaut-context", app)
            .await
            .map_err(|e| e.to_string());
    }
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    tracing::info!("listening on http://{}", args.addr);
    axum::serve(listener, serving::compressed(app).into_make_service())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down (finishing in-flight requests)");
}

async fn run_import(args: ImportArgs) -> Result<(), String> {
    let bad = context_core::actions::ActionTypes::invalid_extra(
        args.extra_action_types.iter().map(String::as_str),
    );
    if !bad.is_empty() {
        return Err(format!(
            "--extra-action-types: invalid names: {}",
            bad.join(", ")
        ));
    }
    let types = context_core::actions::ActionTypes::with_extra(args.extra_action_types.clone());
    let service = service(&args.store).await?;
    let summary = import::import_file(&service, &args.file, &types).await?;
    eprintln!("{summary}");
    if summary.invalid > 0 || summary.conflicts > 0 {
        return Err(format!(
            "{} invalid line(s) and {} conflicting trace(s) were not imported",
            summary.invalid, summary.conflicts
        ));
    }
    Ok(())
}

/// The use-case layer over the configured store (the CLI's door: its commands write,
/// export or remove traces, so pattern analysis keeps its defaults).
async fn service(args: &StoreArgs) -> Result<context_core::service::Service, String> {
    Ok(context_core::service::Service::new(
        open_store(args).await?,
        Default::default(),
    ))
}

async fn seed_demo(args: SeedArgs) -> Result<(), String> {
    let store = service(&args.store).await?;
    if args.remove {
        let removed = store
            .remove_demo(|n| eprint!("\rremoving the demo history: {n} traces deleted"))
            .await
            .map_err(|e| format!("cannot remove the demo history: {e}"))?;
        eprintln!(
            "\rremoved the demo history: {} traces deleted{}",
            removed.deleted,
            " ".repeat(12)
        );
        return Ok(());
    }
    let now = chrono::Utc::now();
    let mut traces = context_core::demo::demo_history(args.seed, now);
    // Seeded before? Re-anchor on the earlier run's clock so the same traces come out
    // again: they are then skipped as unchanged, and an interrupted run is completed.
    if let Some(first) = traces.first() {
        let existing = store
            .action(&first.action_id)
            .await
            .map_err(|e| format!("cannot read the store: {e}"))?;
        if let Some(t) = existing {
            let delta = t.action_timestamp - first.action_timestamp;
            if delta != chrono::Duration::zero() {
                traces = context_core::demo::demo_history(args.seed, now + delta);
            }
        }
    }
    let summary = import::store_inputs(&store, traces).await?;
    eprintln!("demo history (seed {}): {summary}", args.seed);
    if summary.conflicts > 0 {
        eprintln!(
            "note: {} demo trace(s) already exist with other content (seeded with another clock); left as they are",
            summary.conflicts
        );
    }
    Ok(())
}
