//! Prints a production-shaped history (`context_core::synth`, ending now) as NDJSON, the
//! input of `kubernaut-context import`: a workload the code was not written around.
//!
//! ```text
//! cargo run --release -p kubernaut-context-core --example synth -- [--traces 100000] [--seed 7] > traces.ndjson
//! ```

use std::io::{BufWriter, Write};

use chrono::DateTime;
use context_core::synth::{SynthConfig, production_history};

fn main() {
    let mut traces = 100_000usize;
    let mut seed = 7u64;
    let mut args = std::env::args().skip(1);
    while let Some(k) = args.next() {
        let v = args.next().unwrap_or_default();
        let n = v.parse::<u64>().unwrap_or_else(|_| {
            eprintln!("synth: {k} needs a number\nusage: synth [--traces N] [--seed N]");
            std::process::exit(2)
        });
        match k.as_str() {
            "--traces" => traces = n as usize,
            "--seed" => seed = n,
            _ => {
                eprintln!("synth: unknown argument {k}\nusage: synth [--traces N] [--seed N]");
                std::process::exit(2)
            }
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let now = DateTime::from_timestamp(now, 0).unwrap_or_default();
    let history = production_history(&SynthConfig::with_traces(seed, traces), now);
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    for t in &history {
        let ok = serde_json::to_writer(&mut out, t).is_ok() && out.write_all(b"\n").is_ok();
        if !ok {
            std::process::exit(1); // stdout closed
        }
    }
    let _ = out.flush();
}
