//! The server's flags and environment variables (what `serve --help` shows) are exactly
//! those of the `serve` table in docs/API.md.

use std::collections::BTreeSet;
use std::process::Command;

/// Every `--flag` and every `KUBERNAUT_*` / `LEPTOS_*` name in `text`.
fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    for (i, _) in text.match_indices(|c: char| c == '-' || c.is_ascii_uppercase()) {
        let before = text[..i].chars().next_back();
        if before.is_some_and(word) {
            continue;
        }
        let rest = &text[i..];
        let end = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
        let w = rest[..end].trim_end_matches(['-', '_']);
        let flag = w.starts_with("--") && w.len() > 2;
        let var = w.starts_with("KUBERNAUT_") || w.starts_with("LEPTOS_");
        if flag || var {
            out.insert(w.to_string());
        }
    }
    out
}

#[test]
fn serve_help_and_the_documented_table_name_the_same_settings() {
    let out = Command::new(env!("CARGO_BIN_EXE_kubernaut-context"))
        .args(["serve", "--help"])
        .env_clear()
        .output()
        .expect("run kubernaut-context");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let mut shown = names(&help);
    shown.remove("--help");

    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/API.md")).unwrap();
    let table = doc
        .split("### `serve`")
        .nth(1)
        .and_then(|s| s.split("\n\n").find(|p| p.starts_with("| Flag")))
        .expect("the serve table of docs/API.md");
    let documented = names(table);
    assert_eq!(shown, documented, "serve --help:\n{help}");
    // The table lists the secrets' variables, and help never shows their values.
    assert!(documented.contains("KUBERNAUT_CONTEXT_CURSOR_KEY"));
}
