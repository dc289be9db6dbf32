//! How the tests start `kafka-migrate`: the binary under test with colour off, and no
//! migration file (`KAFKA_MIGRATE_CONFIG`) or example secret (`SOURCE_PASSWORD`) taken from the
//! environment of whoever runs the tests. The one command builder of the integration binary
//! (`tests/it`) and of the hostile corpus (`tests/hostile.rs`, which includes this file).

use std::path::Path;

/// `kafka-migrate`, with `-c config` when given, as a process to spawn.
pub fn kafka_migrate_process(config: Option<&Path>) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("kafka-migrate"));
    cmd.env("NO_COLOR", "1")
        .env_remove("KAFKA_MIGRATE_CONFIG")
        .env_remove("SOURCE_PASSWORD");
    if let Some(config) = config {
        cmd.arg("-c").arg(config);
    }
    cmd
}

/// `kafka-migrate -c config`, to run to completion and assert on.
pub fn kafka_migrate(config: &Path) -> assert_cmd::Command {
    assert_cmd::Command::from_std(kafka_migrate_process(Some(config)))
}

/// `kafka-migrate` without `-c`: the test gives the file where it wants it, or none.
pub fn kafka_migrate_bare() -> assert_cmd::Command {
    assert_cmd::Command::from_std(kafka_migrate_process(None))
}
