//! `kubernaut-context export`: the filtered history from the store, as CSV or NDJSON.

use std::process::Command;

fn cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kubernaut-context"))
        .args(args)
        .env_remove("KUBERNAUT_CONTEXT_STORE")
        .env_remove("KUBERNAUT_STORE")
        .output()
        .expect("run kubernaut-context")
}

fn trace(id: &str, ts: &str, ns: &str, alert: &str, name: &str) -> String {
    serde_json::json!({
        "action_id": id, "action_timestamp": ts,
        "resource": {"namespace": ns, "kind": "Deployment", "name": name},
        "alert": {"name": alert, "severity": "warning"},
        "action_type": "restart_pod", "execution_status": "completed",
    })
    .to_string()
}

#[test]
fn export_writes_the_filtered_history_as_csv_and_ndjson() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("in.ndjson");
    let lines = [
        trace(
            "e-1",
            "2026-01-01T00:00:00Z",
            "prod",
            "HighMemoryUsage",
            "api",
        ),
        trace(
            "e-2",
            "2026-01-02T00:00:00Z",
            "prod-eu",
            "HighMemoryUsage",
            "api",
        ),
        trace(
            "e-3",
            "2026-01-03T00:00:00Z",
            "dev",
            "KubePodCrashLooping",
            "web",
        ),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let d = data.to_str().unwrap();
    let out = cli(&["import", file.to_str().unwrap(), "--data-dir", d]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = cli(&["export", "--data-dir", d, "--format", "ndjson"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["action_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["e-3", "e-2", "e-1"]);

    let csv_path = dir.path().join("out.csv");
    let args = [
        "export",
        "--data-dir",
        d,
        "--format",
        "csv",
        "--match",
        "contains",
        "--namespace",
        "PROD",
        "--alert",
        "memory",
        "-o",
        csv_path.to_str().unwrap(),
    ];
    let out = cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("action_id,action_timestamp,"), "{csv}");
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(
        rows[1].starts_with("e-2,2026-01-02T00:00:00Z,prod-eu,"),
        "{csv}"
    );
    assert!(rows[2].starts_with("e-1,"), "{csv}");

    let out = cli(&["export", "--data-dir", d, "--status", "done"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--status"));
}
