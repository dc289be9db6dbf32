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
        .args(["verify"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not implemented yet"));
}

#[test]
fn validate_accepts_every_example() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "hcl") {
            continue;
        }
        kafka_migrate()
            .args(["validate", "-c"])
            .arg(&path)
            .env("SOURCE_PASSWORD", "x")
            .env("SOURCE_USER", "x")
            .env("TARGET_PASSWORD", "x")
            .env("SOURCE_KEY_PASSWORD", "x")
            .assert()
            .success()
            .stdout(predicate::str::contains("is valid"));
    }
}

#[test]
fn validate_points_at_the_error_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.hcl");
    std::fs::write(
        &file,
        "name = \"x\"\ncluster \"source\" { bootstrap_servers = [\"a:1\"] }\ncluster \"target\" { bootstrap_servers = [\"b:1\"] }\nreplication {\n  taks = 2\n}\n",
    )
    .unwrap();
    kafka_migrate()
        .args(["validate", "-c"])
        .arg(&file)
        .env("NO_COLOR", "1")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "m.hcl:5:3: unknown attribute `taks`",
        ))
        .stderr(predicate::str::contains("did you mean `tasks`?"));
}

#[test]
fn validate_json_redacts_secrets() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    kafka_migrate()
        .args(["validate", "--json", "-c"])
        .arg(examples.join("local.hcl"))
        .env("SOURCE_PASSWORD", "very-secret-password")
        .assert()
        .success()
        .stdout(predicate::str::contains("**REDACTED**"))
        .stdout(predicate::str::contains("very-secret-password").not());
}
