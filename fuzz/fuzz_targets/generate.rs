//! The generators' input validation (core/src/generate): options from JSON (POST body)
//! and from query-string pairs (GET). No panics; options that pass `validate` must
//! generate, and the toolset, config snippet and manifests must be valid YAML (user
//! values must never break out of their YAML strings).
#![no_main]

use context_core::generate::{
    GenerateOptions, generate_config_snippet, generate_manifests, generate_podman, generate_toolset,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let opts = if mode % 2 == 0 {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(rest) else {
            return;
        };
        GenerateOptions::from_json(v)
    } else {
        // "k=v&k=v" without percent-decoding: arbitrary keys and values.
        let s = String::from_utf8_lossy(rest);
        GenerateOptions::from_pairs(s.split('&').filter(|p| !p.is_empty()).map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        }))
    };
    let Ok(opts) = opts else {
        return;
    };
    let valid = opts.validate().is_ok();
    let toolset = generate_toolset(&opts);
    let snippet = generate_config_snippet(&opts);
    let manifests = generate_manifests(&opts);
    let podman = generate_podman(&opts);
    for (what, ok, err) in [
        ("toolset", toolset.is_ok(), toolset.as_ref().err()),
        ("config snippet", snippet.is_ok(), snippet.as_ref().err()),
        ("manifests", manifests.is_ok(), manifests.as_ref().err()),
        ("podman", podman.is_ok(), podman.as_ref().err()),
    ] {
        // The config snippet exists only for builtin_toolsets (a rule of its own).
        if what == "config snippet" && !opts.builtin_toolsets {
            assert!(!ok);
            continue;
        }
        assert_eq!(
            valid, ok,
            "validate() and the {what} generator disagree: {err:?}"
        );
    }
    if !valid {
        return;
    }
    let mut docs = vec![("toolset", toolset.unwrap())];
    if let Ok(s) = snippet {
        docs.push(("config snippet", s));
    }
    for (what, yaml) in docs {
        if let Err(e) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&yaml) {
            panic!("{what} is not YAML ({e}):\n{yaml}");
        }
    }
    for doc in serde_yaml_ng::Deserializer::from_str(&manifests.unwrap()) {
        if let Err(e) = <serde_yaml_ng::Value as serde::Deserialize>::deserialize(doc) {
            panic!("manifests are not YAML: {e}");
        }
    }
});
