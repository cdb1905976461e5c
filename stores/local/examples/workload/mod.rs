//! What the store benchmarks (`pattern_bench`, `ingest_bench`, `local_bench`) generate
//! their traces from. Not an example of its own (a directory without `main.rs`).
#![allow(dead_code)] // each benchmark uses part of it

pub const ACTIONS: [&str; 6] = [
    "restart_pod",
    "scale_deployment",
    "increase_resources",
    "rollback_deployment",
    "expand_pvc",
    "notify_only",
];

pub const ALERTS: [&str; 4] = [
    "KubePodCrashLooping",
    "HighMemoryUsage",
    "PVCAlmostFull",
    "KubeDeploymentReplicasMismatch",
];

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// splitmix64 of `x`: deterministic pseudo-random bits.
pub fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// splitmix64 as a generator: small, deterministic, good enough for a workload.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let r = splitmix(self.0);
        self.0 = self.0.wrapping_add(GOLDEN);
        r
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The benchmarks' tokio runtime: multi-threaded, two workers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The store's directory: `dir` when given, else a new temporary one, removed when the
/// returned guard is dropped.
pub fn data_dir(dir: Option<&std::path::Path>) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = dir.map_or_else(|| tmp.path().to_path_buf(), std::path::Path::to_path_buf);
    (tmp, dir)
}
