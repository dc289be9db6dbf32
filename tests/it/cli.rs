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
fn an_unbuilt_command_says_so_and_fails() {
    kafka_migrate()
        .args(["status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not implemented yet"));
}
