//! Runs the CLI generator module's tests (flag → option mapping, defaults, error text)
//! independently of how main.rs mounts the subcommands.
#[path = "../src/generate_cmd.rs"]
#[allow(dead_code)]
mod generate_cmd;
