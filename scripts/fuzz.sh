#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/fuzz_targets/*) one after the other, each for
# FUZZ_SECONDS (default 600), on one core (-jobs 1), and prints target, duration, execs
# and findings. Needs nightly and cargo-fuzz (installed here if missing). The corpus grows
# in fuzz/corpus/<target> (only the seed-* files are committed); crashes land in
# fuzz/artifacts/<target>. Usage: scripts/fuzz.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
SECS=${FUZZ_SECONDS:-600}
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(trace_input cursor window_time generate)
cd fuzz
cargo +nightly fuzz build -O
rc=0
printf '%-12s %8s %12s %s\n' target seconds execs findings
for t in "${TARGETS[@]}"; do
  log=$(mktemp -t "fuzz-$t.XXXXXX.log")
  set +e
  cargo +nightly fuzz run -O "$t" -- -max_total_time="$SECS" -jobs=1 -workers=1 \
    -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
  r=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -n1)
  arts=$(ls "artifacts/$t" 2>/dev/null | wc -l)
  if [ "$r" -ne 0 ]; then
    rc=1
    printf '%-12s %8s %12s FAILED (exit %s, %s artifact(s)); log: %s\n' "$t" "${secs:-?}" "${execs:-?}" "$r" "$arts" "$log"
    grep -m5 -E 'panicked|ERROR|SUMMARY' "$log" || true
  else
    printf '%-12s %8s %12s none\n' "$t" "${secs:-$SECS}" "${execs:-?}"
    rm -f "$log"
  fi
done
exit "$rc"
