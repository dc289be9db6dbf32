//! The README's quick start, as a user runs it from a script or CI (standard input not a
//! terminal): `scripts/demo --keep` migrates, says the demo's credentials, keeps the clusters
//! until SIGTERM, and builds in the profile of the kafka-migrate build already there.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::Running;

#[test]
fn the_quick_start_keeps_its_clusters_when_not_on_a_terminal_and_says_its_credentials() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let mut demo = Running::spawn(Command::new(root.join("scripts/demo")), dir.path(), |cmd| {
        cmd.arg("--keep").stdin(Stdio::null());
    });
    let kept = crate::support::poll_until(Duration::from_secs(900), || {
        demo.stdout().contains("Clusters keep running") || demo.exited()
    });
    assert!(kept, "timed out waiting for the demo: {}", demo.output());
    let out = demo.stdout();
    assert!(out.contains("READY FOR CUTOVER"), "{}", demo.output());
    assert!(
        out.contains("The source's super user is admin with password admin-secret"),
        "{out}"
    );
    // A release build there is the one the demo builds and runs.
    let target = kafka_harness::shared::target_dir();
    let profile = if target.join("release/kafka-migrate").exists() {
        "release"
    } else {
        "debug"
    };
    assert!(
        out.contains(&format!(
            "==> Building kafka-migrate and the demo ({profile};"
        )),
        "{out}"
    );
    // Standard input is closed, and the clusters are still there: the source answers.
    assert!(!demo.exited(), "{}", demo.output());
    let status = crate::support::kafka_migrate(&root.join("examples/local.hcl"))
        .arg("status")
        .env("SOURCE_PASSWORD", "admin-secret")
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let stopped = Command::new("kill")
        .args(["-TERM", &demo.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let exit = demo.wait_exit(Duration::from_secs(60));
    assert!(exit.success(), "{exit}: {}", demo.output());
    assert!(
        demo.stdout().contains("Stopping the clusters."),
        "{}",
        demo.output()
    );
}
