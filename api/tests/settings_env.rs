//! The settings as the Lambda functions read them: from the environment alone. One test,
//! as it sets this process's environment.

use context_api::{ApiConfig, DynamoSettings, settings};
use secrecy::ExposeSecret;

fn set(vars: &[(&str, &str)]) {
    for (k, v) in vars {
        // SAFETY: the only test of this binary; no other thread reads the environment.
        unsafe { std::env::set_var(k, v) };
    }
}

fn unset(vars: &[&str]) {
    for k in vars {
        // SAFETY: as in `set`.
        unsafe { std::env::remove_var(k) };
    }
}

#[test]
fn every_documented_variable_is_read() {
    set(&[
        (
            "KUBERNAUT_CONTEXT_TOKENS",
            "aaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbb,",
        ),
        ("KUBERNAUT_CONTEXT_REQUIRE_READ_AUTH", "yes"),
        ("KUBERNAUT_CONTEXT_CORS_ORIGINS", "https://a.example"),
        ("KUBERNAUT_CONTEXT_CURSOR_KEY", "cursor-key-1"),
        ("KUBERNAUT_CONTEXT_EXTRA_ACTION_TYPES", "restart_job"),
        ("KUBERNAUT_CONTEXT_PUBLIC_URL", "https://ctx.example/"),
        ("KUBERNAUT_CONTEXT_MCP_ALLOWED_HOSTS", "*"),
        ("KUBERNAUT_CONTEXT_EFFECTIVENESS_THRESHOLD", "0.4"),
        ("KUBERNAUT_CONTEXT_CLOCK_SKEW", "1h"),
        ("KUBERNAUT_CONTEXT_URL_HEALTH", "https://h.example"),
        ("KUBERNAUT_CONTEXT_URL_DISCOVER", "https://d.example"),
        (
            "KUBERNAUT_CONTEXT_URL_ACTION_HISTORY_READ",
            "https://r.example",
        ),
        (
            "KUBERNAUT_CONTEXT_URL_ACTION_HISTORY_WRITE",
            "https://w.example",
        ),
        ("KUBERNAUT_CONTEXT_URL_PATTERNS", ""),
        ("KUBERNAUT_CONTEXT_DYNAMODB_TABLE", "t"),
        (
            "KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT",
            "http://127.0.0.1:5000",
        ),
        ("KUBERNAUT_CONTEXT_DYNAMODB_REGION", " "),
    ]);
    let c = ApiConfig::from_env().unwrap();
    assert_eq!(c.write_tokens.len(), 2);
    assert_eq!(c.write_tokens[1].expose_secret(), "bbbbbbbbbbbbbbbb");
    assert!(c.require_read_auth);
    assert_eq!(c.cors_origins, ["https://a.example"]);
    assert_eq!(c.cursor_key.expose_secret(), b"cursor-key-1");
    assert!(c.action_types.contains("restart_job"));
    assert_eq!(c.public_base_url.as_deref(), Some("https://ctx.example"));
    assert_eq!(c.mcp_allowed_hosts, ["*"]);
    assert_eq!(c.analysis.effectiveness_threshold, 0.4);
    assert_eq!(c.clock_skew, chrono::Duration::hours(1));
    let urls = c
        .function_urls
        .by_name()
        .map(|(_, u)| u.map(str::to_string));
    assert_eq!(
        urls.iter().map(|u| u.as_deref()).collect::<Vec<_>>(),
        [
            Some("https://h.example"),
            Some("https://d.example"),
            Some("https://r.example"),
            Some("https://w.example"),
            None
        ]
    );
    let d: DynamoSettings = settings::from_env().unwrap();
    assert_eq!(d.table(), Some("t"));
    assert_eq!(d.endpoint(), Some("http://127.0.0.1:5000"));
    assert_eq!(d.region(), None);

    // The older name of the public URL, when the new one is unset.
    unset(&["KUBERNAUT_CONTEXT_PUBLIC_URL"]);
    set(&[("KUBERNAUT_CONTEXT_PUBLIC_BASE_URL", "https://old.example")]);
    let c = ApiConfig::from_env().unwrap();
    assert_eq!(c.public_base_url.as_deref(), Some("https://old.example"));

    // Empty values count as unset.
    set(&[
        ("KUBERNAUT_CONTEXT_TOKENS", ""),
        ("KUBERNAUT_CONTEXT_REQUIRE_READ_AUTH", ""),
        ("KUBERNAUT_CONTEXT_CURSOR_KEY", ""),
        ("KUBERNAUT_CONTEXT_EFFECTIVENESS_THRESHOLD", ""),
        ("KUBERNAUT_CONTEXT_CLOCK_SKEW", ""),
        ("KUBERNAUT_CONTEXT_MCP_ALLOWED_HOSTS", ""),
        ("KUBERNAUT_CONTEXT_PUBLIC_BASE_URL", ""),
    ]);
    let c = ApiConfig::from_env().unwrap();
    assert!(c.write_tokens.is_empty());
    assert!(!c.require_read_auth);
    assert_eq!(c.cursor_key.expose_secret().len(), 32);
    assert_eq!(c.analysis.effectiveness_threshold, 0.7);
    assert_eq!(c.clock_skew, chrono::Duration::minutes(5));
    assert_eq!(c.mcp_allowed_hosts, ["localhost", "127.0.0.1", "::1"]);

    // A wrong value is refused, naming its variable.
    for (var, bad) in [
        ("KUBERNAUT_CONTEXT_REQUIRE_READ_AUTH", "maybe"),
        ("KUBERNAUT_CONTEXT_EFFECTIVENESS_THRESHOLD", "2"),
        ("KUBERNAUT_CONTEXT_CLOCK_SKEW", "soon"),
        ("KUBERNAUT_CONTEXT_TOKENS", "short"),
    ] {
        set(&[(var, bad)]);
        let e = ApiConfig::from_env().unwrap_err();
        assert!(e.contains(var), "{var}={bad}: {e}");
        set(&[(var, "")]);
    }
}
