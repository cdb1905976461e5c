//! Typed settings, defined once with clap: the server's CLI flattens them into its
//! subcommands (flags, each with its environment variable), the Lambda functions read the
//! same structs from the environment alone ([`from_env`]). [`ApiSettings`] becomes an
//! [`ApiConfig`](crate::ApiConfig) through [`ApiConfig::from_settings`](crate::ApiConfig::from_settings),
//! which checks what one value alone cannot show.
//!
//! An empty variable counts as unset, as a deployment template may leave one empty.

use clap::{ArgAction, Args, FromArgMatches, Parser};
use secrecy::SecretString;

use crate::FunctionUrls;

/// Settings of the HTTP layer: auth, CORS, cursors, action types, public URL, MCP hosts,
/// pattern analysis, clock skew and the Lambda function URLs.
#[derive(Args, Debug, Clone, Default)]
pub struct ApiSettings {
    /// Bearer token accepted for writes (repeat, or comma-separate; at least 16
    /// characters each). Without any, writes are refused.
    #[arg(
        long = "token",
        env = "KUBERNAUT_CONTEXT_TOKENS",
        value_delimiter = ',',
        hide_env_values = true,
        value_parser = secret
    )]
    pub tokens: Vec<SecretString>,
    /// Require a bearer token on reads too (health, metrics and OpenAPI stay open).
    #[arg(
        long,
        env = "KUBERNAUT_CONTEXT_REQUIRE_READ_AUTH",
        action = ArgAction::SetTrue,
        value_parser = parse_bool
    )]
    pub require_read_auth: bool,
    /// Origins allowed by CORS (comma-separated; none disables CORS).
    #[arg(long, env = "KUBERNAUT_CONTEXT_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// HMAC key of page cursors (random per process when unset).
    #[arg(
        long,
        env = "KUBERNAUT_CONTEXT_CURSOR_KEY",
        hide_env_values = true,
        value_parser = secret
    )]
    pub cursor_key: Option<SecretString>,
    /// Action types accepted besides Kubernaut's 30 canonical ones (comma-separated,
    /// lowercase snake_case).
    #[arg(
        long,
        env = "KUBERNAUT_CONTEXT_EXTRA_ACTION_TYPES",
        value_delimiter = ','
    )]
    pub extra_action_types: Vec<String>,
    /// Public base URL of this server, e.g. https://ctx.example.com: the OpenAPI
    /// document's server, the generators' default Context API URL and an allowed MCP
    /// Host.
    #[arg(long, env = "KUBERNAUT_CONTEXT_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Older name of --public-url (used when that is unset).
    #[arg(long, env = "KUBERNAUT_CONTEXT_PUBLIC_BASE_URL", value_name = "URL")]
    pub public_base_url: Option<String>,
    /// Host header values /mcp accepts (comma-separated host or host:port; * accepts
    /// any) [default: localhost, 127.0.0.1, ::1 and the public URL's host].
    #[arg(
        long,
        env = "KUBERNAUT_CONTEXT_MCP_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub mcp_allowed_hosts: Vec<String>,
    /// Mean assessed effectiveness (0 to 1) below which pattern analysis never
    /// recommends an action (Kubernaut's default).
    #[arg(
        long,
        env = "KUBERNAUT_CONTEXT_EFFECTIVENESS_THRESHOLD",
        value_name = "0..1",
        default_value = "0.7",
        value_parser = parse_threshold
    )]
    pub effectiveness_threshold: f64,
    /// How far in the future a recorded timestamp may lie (clock skew between Kubernaut
    /// and this server), e.g. 5m.
    #[arg(
        long,
        env = "KUBERNAUT_CONTEXT_CLOCK_SKEW",
        value_name = "DURATION",
        default_value = "5m",
        value_parser = parse_skew
    )]
    pub clock_skew: chrono::Duration,
    #[command(flatten)]
    pub function_urls: FunctionUrls,
}

/// Where the DynamoDB store is: the server's `--store dynamodb` and every Lambda
/// function.
#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct DynamoSettings {
    /// DynamoDB table name (--store dynamodb; required by the Lambda functions).
    #[arg(
        long = "dynamodb-table",
        env = "KUBERNAUT_CONTEXT_DYNAMODB_TABLE",
        value_name = "TABLE"
    )]
    pub table: Option<String>,
    /// DynamoDB endpoint URL, e.g. http://127.0.0.1:5000 for a local emulator.
    #[arg(
        long = "dynamodb-endpoint",
        env = "KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT",
        value_name = "URL"
    )]
    pub endpoint: Option<String>,
    /// AWS region of the table (default: from the AWS environment).
    #[arg(
        long = "dynamodb-region",
        env = "KUBERNAUT_CONTEXT_DYNAMODB_REGION",
        value_name = "REGION"
    )]
    pub region: Option<String>,
}

impl DynamoSettings {
    /// The table name; `None` when unset or empty.
    pub fn table(&self) -> Option<&str> {
        nonempty(&self.table)
    }

    /// The endpoint override; `None` when unset or empty.
    pub fn endpoint(&self) -> Option<&str> {
        nonempty(&self.endpoint)
    }

    /// The region override; `None` when unset or empty.
    pub fn region(&self) -> Option<&str> {
        nonempty(&self.region)
    }
}

/// The value trimmed, `None` when unset or blank.
pub(crate) fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Reads `T` from the environment alone (the Lambda functions: no command line).
pub fn from_env<T: Args + FromArgMatches>() -> Result<T, String> {
    parse(std::iter::empty::<String>())
}

/// Reads `T` from `args` (flags without a program name), the environment filling in
/// what they leave out.
pub fn parse<T, I, S>(args: I) -> Result<T, String>
where
    T: Args + FromArgMatches,
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    Only::<T>::try_parse_from(args)
        .map(|o| o.inner)
        .map_err(|e| with_variable::<T>(&e))
}

/// clap's message, naming the argument's environment variable too: the Lambda
/// functions are configured through variables alone.
fn with_variable<T: Args + FromArgMatches>(e: &clap::Error) -> String {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue};
    let msg = e.to_string().trim_end().to_string();
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return msg;
    };
    let long = arg
        .split([' ', '='])
        .next()
        .unwrap_or("")
        .trim_start_matches("--");
    let cmd = Only::<T>::command();
    match cmd
        .get_arguments()
        .find(|a| a.get_long() == Some(long))
        .and_then(|a| a.get_env())
    {
        Some(var) => format!("{msg} (environment variable {})", var.to_string_lossy()),
        None => msg,
    }
}

/// The environment variables `T` reads.
pub fn variables<T: Args + FromArgMatches>() -> Vec<String> {
    use clap::CommandFactory;
    Only::<T>::command()
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|v| v.to_string_lossy().into_owned())
        .collect()
}

#[derive(Parser)]
#[command(name = "settings", no_binary_name = true)]
struct Only<T: Args + FromArgMatches> {
    #[command(flatten)]
    inner: T,
}

fn secret(v: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(v.trim()))
}

/// Parses a boolean setting (`true/false/1/0/yes/no/on/off`; empty: false).
pub fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        other => Err(format!("expected true or false, got {other:?}")),
    }
}

fn parse_threshold(v: &str) -> Result<f64, String> {
    if v.trim().is_empty() {
        return Ok(context_core::patterns::AnalysisConfig::default().effectiveness_threshold);
    }
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| (0.0..=1.0).contains(x))
        .ok_or_else(|| "expected a number from 0 to 1".to_string())
}

fn parse_skew(v: &str) -> Result<chrono::Duration, String> {
    match v.trim() {
        "" => Ok(chrono::Duration::minutes(crate::DEFAULT_CLOCK_SKEW_MINUTES)),
        v => context_core::patterns::parse_window(v).map_err(|e| e.to_string()),
    }
}
