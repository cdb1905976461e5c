//! Prints one generator's output for options given as JSON (the web app's and HTTP
//! POST's input): `cargo run -p kubernaut-context-core --example generate -- toolset '{"builtin_toolsets":true}'`.
//! Kinds: toolset, config, manifests, podman.
use context_core::generate::{
    GenerateOptions, generate_config_snippet, generate_manifests, generate_podman, generate_toolset,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "toolset".into());
    let json = args.next().unwrap_or_else(|| "{}".into());
    let value: serde_json::Value = match serde_json::from_str(&json) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("options must be JSON: {e}");
            std::process::exit(2);
        }
    };
    let result = GenerateOptions::from_json(value).and_then(|o| match kind.as_str() {
        "toolset" => generate_toolset(&o),
        "config" => generate_config_snippet(&o),
        "manifests" => generate_manifests(&o),
        "podman" => generate_podman(&o),
        other => {
            eprintln!("unknown kind {other}: toolset, config, manifests or podman");
            std::process::exit(2);
        }
    });
    match result {
        Ok(s) => print!("{s}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
