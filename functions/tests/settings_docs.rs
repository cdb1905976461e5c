//! The variables the functions read are exactly those of docs/DEPLOY.md's
//! configuration table (besides the log filter).

use std::collections::BTreeSet;

use context_api::{ApiSettings, DynamoSettings, settings};

#[test]
fn the_configuration_table_lists_every_variable_the_functions_read() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/DEPLOY.md")).unwrap();
    let table = doc
        .split("## Configuration (environment variables of every function)")
        .nth(1)
        .and_then(|s| s.split("\n\n").find(|p| p.starts_with("| Variable")))
        .expect("the configuration table of docs/DEPLOY.md");
    let documented: BTreeSet<String> = table
        .split('`')
        .filter(|w| {
            w.starts_with("KUBERNAUT_") && w.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        })
        .map(str::to_string)
        .collect();
    let mut read: BTreeSet<String> = settings::variables::<ApiSettings>().into_iter().collect();
    read.extend(settings::variables::<DynamoSettings>());
    assert_eq!(read, documented);
}
