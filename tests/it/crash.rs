//! Exactly-once under crashes: `apply` killed with SIGKILL at ten moments while it replicates,
//! started again each time; afterwards the target holds every source record exactly once, in
//! order, with the same key, value, headers and timestamp.

use std::process::{Command, Stdio};
use std::time::Duration;

use kafka_harness::{data, shared};

use crate::support::assert_identical;

/// Delays (ms) at which the runs are killed: spread over start-up, metadata and replication.
const KILL_AFTER_MS: [u64; 10] = [700, 2600, 1300, 3400, 900, 2100, 4200, 1700, 3000, 1100];

#[tokio::test]
async fn apply_killed_ten_times_leaves_every_record_exactly_once() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("crash").replace('-', "_");
    let topics = [format!("{p}.a"), format!("{p}.b")];
    for t in &topics {
        data::create_topic(&source.admin_config(), t, 3, 1, &[])
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("migration.hcl");
    std::fs::write(
        &config,
        format!(
            "name = \"{p}\"\ncluster \"source\" {{ bootstrap_servers = [\"{}\"] }}\ncluster \"target\" {{ bootstrap_servers = [\"{}\"] }}\ntopics {{\n  include = [\"^{p}\\\\.\"]\n  replication_factor = 1\n}}\nreplication {{\n  tasks = 2\n  commit_interval = \"200ms\"\n}}\n",
            source.bootstrap(),
            target.bootstrap()
        ),
    )
    .unwrap();
    let binary = assert_cmd::cargo::cargo_bin("kafka-migrate");
    let mut killed = 0;
    for delay in KILL_AFTER_MS {
        // New records keep arriving between the crashes.
        for t in &topics {
            data::produce(&source.admin_config(), t, &data::sample_records(3_000, 3))
                .await
                .unwrap();
        }
        let mut child = Command::new(&binary)
            .arg("-c")
            .arg(&config)
            .args(["apply", "--auto-approve", "--until-synced"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
    }
    assert!(
        killed >= 5,
        "only {killed} of the runs were still running when killed"
    );
    assert_cmd::Command::new(&binary)
        .arg("-c")
        .arg(&config)
        .args(["apply", "--auto-approve", "--until-synced"])
        .assert()
        .success();
    for t in &topics {
        assert_eq!(assert_identical(source, target, t), 30_000);
    }
}
