//! The command line as a user meets it: help, completions, exit codes.

use assert_cmd::Command;
use predicates::prelude::*;

fn kafka_migrate() -> Command {
    Command::cargo_bin("kafka-migrate").expect("the binary is built")
}

#[test]
fn help_lists_every_subcommand() {
    let output = kafka_migrate().arg("--help").assert().success();
    let help = String::from_utf8_lossy(&output.get_output().stdout).into_owned();
    for command in [
        "validate",
        "plan",
        "apply",
        "status",
        "verify",
        "export",
        "completions",
    ] {
        assert!(
            help.contains(command),
            "`{command}` missing from --help:\n{help}"
        );
    }
}

#[test]
fn each_command_help_shows_an_example() {
    for command in [
        "validate",
        "plan",
        "apply",
        "status",
        "verify",
        "export",
        "completions",
    ] {
        kafka_migrate()
            .args([command, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Example"));
    }
}

#[test]
fn completions_are_generated_for_bash() {
    kafka_migrate()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("complete -F"));
}

#[test]
fn a_missing_migration_file_is_named_with_a_hint_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["plan", "apply", "status", "verify"] {
        kafka_migrate()
            .current_dir(dir.path())
            .arg(command)
            .env("NO_COLOR", "1")
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "cannot read the migration file migration.hcl",
            ))
            .stderr(predicate::str::contains("-c FILE"));
    }
}
