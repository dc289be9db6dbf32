//! `kafka-migrate validate` as a user runs it: offline, on files; exit 0 with a one-line
//! summary, or exit 1 with a diagnostic that points at the file, line and column.

use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::support::kafka_migrate_bare;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// A migration file `text` in a fresh folder.
fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("migration.hcl");
    std::fs::write(&path, text).expect("the file is written");
    (dir, path)
}

const VALID: &str = "name = \"m\"\ncluster \"source\" { bootstrap_servers = [\"a:9092\"] }\ncluster \"target\" { bootstrap_servers = [\"b:9092\"] }\n";

/// Runs `validate -c path`, expects exit 1, and returns standard error.
fn refused(path: &Path) -> String {
    let output = kafka_migrate_bare()
        .args(["validate", "-c"])
        .arg(path)
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(output.stdout.is_empty(), "nothing on standard output");
    String::from_utf8(output.stderr).expect("UTF-8 diagnostics")
}

/// The diagnostic's message, unwrapped (miette wraps it to the terminal's width).
fn message(stderr: &str) -> String {
    let mut lines = stderr
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("× "));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no message in:\n{stderr}"));
    let rest = lines.map_while(|l| l.trim_start().strip_prefix("│ "));
    std::iter::once(first.trim_start().trim_start_matches("× "))
        .chain(rest)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The column the snippet's underline starts at, under source line `line` of `stderr`.
fn caret_column(stderr: &str, line: usize) -> usize {
    let lines: Vec<&str> = stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with(&format!("{line} │ ")))
        .unwrap_or_else(|| panic!("no source line {line} in:\n{stderr}"));
    let text_start = lines[at].chars().position(|c| c == '│').expect("gutter") + 2;
    let underline = lines[at + 1]
        .chars()
        .position(|c| c == '─' || c == '┬' || c == '▲')
        .unwrap_or_else(|| panic!("no underline below line {line} in:\n{stderr}"));
    underline - text_start + 1
}

#[test]
fn every_example_is_valid() {
    let mut checked = 0;
    for entry in std::fs::read_dir(examples()).expect("examples/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "hcl") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        kafka_migrate_bare()
            .args(["validate", "-c"])
            .arg(&path)
            .env("SOURCE_USER", "migrator")
            .env("SOURCE_PASSWORD", "x")
            .env("TARGET_PASSWORD", "x")
            .env("SOURCE_KEY_PASSWORD", "x")
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("{name} is valid: \"")))
            .stdout(predicate::function(|out: &str| out.lines().count() == 1));
        checked += 1;
    }
    assert!(checked >= 5, "{checked} examples");
}

#[test]
fn the_summary_is_one_line_about_both_clusters() {
    kafka_migrate_bare()
        .args(["validate", "-c"])
        .arg(examples().join("local.hcl"))
        .env("SOURCE_PASSWORD", "admin-secret")
        .assert()
        .success()
        .stdout(predicate::str::ends_with(
            "local.hcl is valid: \"local-demo\": source 1 broker(s) SASL_PLAINTEXT/SCRAM-SHA-512 \
             → target 1 broker(s) PLAINTEXT; 1 include pattern(s), 0 named topic(s); \
             exactly-once with 2 task(s)\n",
        ));
}

#[test]
fn an_unset_environment_variable_fails_with_its_position() {
    // Commands that connect need the value: a located error.
    let output = kafka_migrate_bare()
        .args(["plan", "-c"])
        .arg(examples().join("local.hcl"))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 diagnostics");
    assert!(
        message(&stderr)
            .ends_with("local.hcl:12:23: environment variable SOURCE_PASSWORD is not set"),
        "{stderr}"
    );
    assert_eq!(caret_column(&stderr, 12), 23, "{stderr}");
    assert!(
        stderr.contains("help: export SOURCE_PASSWORD=…"),
        "{stderr}"
    );
}

/// `validate` and `export connect` need no secret values: an unset `env()` variable is a
/// warning with its position, and the exported files refer to it as `${env:NAME}`.
#[test]
fn offline_commands_warn_about_an_unset_environment_variable() {
    let warning = "local.hcl:12:23: environment variable SOURCE_PASSWORD is not set";
    kafka_migrate_bare()
        .args(["validate", "-c"])
        .arg(examples().join("local.hcl"))
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "Warning: {}",
            examples().join(warning).display()
        )));
    let dir = tempfile::tempdir().expect("a temporary folder");
    kafka_migrate_bare()
        .args(["export", "connect", "-c"])
        .arg(examples().join("local.hcl"))
        .arg("--dir")
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains(warning));
    let source = std::fs::read_to_string(dir.path().join("local-demo.mirror-source.json"))
        .expect("the source connector");
    assert!(
        source.contains("password=\\\"${env:SOURCE_PASSWORD}\\\""),
        "{source}"
    );
}

/// With no environment at all, `validate` and `export connect` accept every example: exit 0,
/// one warning for each `env()` variable the file names, and the exported connector files
/// refer to each as `${env:NAME}`.
#[test]
fn every_example_validates_and_exports_with_no_environment_set() {
    let env_call = regex::Regex::new(r#"env\("([A-Za-z_][A-Za-z0-9_]*)"\)"#).unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(examples()).expect("examples/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "hcl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("the example");
        let names: std::collections::BTreeSet<&str> = env_call
            .captures_iter(&text)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let runs: [&[&str]; 2] = [
            &["validate"],
            &["export", "connect", "--dir", dir.path().to_str().unwrap()],
        ];
        for args in runs {
            let out = kafka_migrate_bare()
                .env_clear()
                .env("NO_COLOR", "1")
                .arg("-c")
                .arg(&path)
                .args(args)
                .assert()
                .success()
                .get_output()
                .clone();
            let stderr = String::from_utf8_lossy(&out.stderr);
            for name in &names {
                assert!(
                    stderr.contains(&format!("environment variable {name} is not set")),
                    "{} {args:?}: {stderr}",
                    path.display()
                );
            }
            assert_eq!(
                stderr.lines().filter(|l| l.starts_with("Warning:")).count(),
                names.len(),
                "{} {args:?}: {stderr}",
                path.display()
            );
        }
        let exported: String = std::fs::read_dir(dir.path())
            .expect("the exported files")
            .map(|e| std::fs::read_to_string(e.expect("a file").path()).expect("text"))
            .collect();
        for name in &names {
            assert!(
                exported.contains(&format!("${{env:{name}}}")),
                "{}: {name} not referred to",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 5, "{checked} examples");
}

#[test]
fn a_mistake_is_pointed_at_with_a_caret_and_help() {
    let (_dir, path) = file(&format!("{VALID}replication {{\n  taks = 2\n}}\n"));
    let stderr = refused(&path);
    assert!(
        message(&stderr)
            .ends_with("migration.hcl:5:3: unknown attribute `taks` in the replication block"),
        "{stderr}"
    );
    assert_eq!(caret_column(&stderr, 5), 3, "{stderr}");
    assert!(stderr.contains("help: did you mean `tasks`?"), "{stderr}");
}

#[test]
fn a_syntax_error_is_pointed_at() {
    let (_dir, path) =
        file("name = \"m\"\ncluster \"source\" {\n  bootstrap_servers = [\"a:1\"\n}\n");
    let stderr = refused(&path);
    assert!(
        message(&stderr).contains("migration.hcl:4:1: syntax error"),
        "{stderr}"
    );
    assert_eq!(caret_column(&stderr, 4), 1, "{stderr}");
}

#[test]
fn a_regex_error_is_pointed_into_the_pattern() {
    let (_dir, path) = file(&format!(
        "{VALID}topics {{\n  include = [\"^orders[\"]\n}}\n"
    ));
    let stderr = refused(&path);
    assert!(
        message(&stderr).ends_with(
            "migration.hcl:5:22: invalid regular expression in `include` of the topics block: \
             unclosed character class"
        ),
        "{stderr}"
    );
    assert_eq!(caret_column(&stderr, 5), 22, "{stderr}");
}

#[test]
fn json_output_is_the_model_with_secrets_redacted() {
    let output = kafka_migrate_bare()
        .args(["validate", "--json", "-c"])
        .arg(examples().join("local.hcl"))
        .env("SOURCE_PASSWORD", "very-secret-password")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).expect("UTF-8");
    assert!(!text.contains("very-secret-password"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(json["name"], "local-demo");
    assert_eq!(
        json["cluster"]["source"]["security"]["sasl"]["password"],
        "**REDACTED**"
    );
    assert_eq!(json["topics"]["include"][0], "^demo\\..*");
    assert_eq!(json["cutover"]["quiet_period"], "5s");
}

#[test]
fn variables_come_from_the_command_line() {
    let text = VALID.replace("\"m\"", "\"m-${var.env}\"");
    let (_dir, path) = file(&format!("variable \"env\" {{ default = \"dev\" }}\n{text}"));
    kafka_migrate_bare()
        .args(["validate", "--var", "env=prod", "-c"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"m-prod\""));
    kafka_migrate_bare()
        .args(["validate", "--var", "env", "-c"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("--var argument is not NAME=VALUE")
                .and(predicate::str::contains("--var env").not()),
        );
    kafka_migrate_bare()
        .args(["validate", "--var", "nope=1", "-c"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("declares no variable \"nope\""));
}

#[test]
fn file_reads_next_to_the_migration_file() {
    let text = VALID.replace(
        "cluster \"source\" { bootstrap_servers = [\"a:9092\"] }",
        "cluster \"source\" {\n  bootstrap_servers = [\"a:9092\"]\n  security {\n    protocol = \"SASL_SSL\"\n    sasl {\n      mechanism = \"SCRAM-SHA-256\"\n      username  = \"u\"\n      password  = file(\"secrets/pw\")\n    }\n  }\n}",
    );
    let (dir, path) = file(&text);
    let stderr = refused(&path);
    assert!(
        message(&stderr).contains("migration.hcl:9:24: file(\"secrets/pw\")"),
        "{stderr}"
    );
    assert_eq!(caret_column(&stderr, 9), 24, "{stderr}");
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    std::fs::write(dir.path().join("secrets/pw"), "pw-from-file\n").unwrap();
    // Run from elsewhere: the path is relative to the migration file, not the working folder.
    kafka_migrate_bare()
        .current_dir(std::env::temp_dir())
        .args(["validate", "--json", "-c"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("pw-from-file").not());
}

#[test]
fn the_default_file_is_migration_hcl_in_the_working_folder() {
    let (dir, _path) = file(VALID);
    kafka_migrate_bare()
        .current_dir(dir.path())
        .arg("validate")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("migration.hcl is valid: \"m\""));
    let empty = tempfile::tempdir().unwrap();
    kafka_migrate_bare()
        .current_dir(empty.path())
        .arg("validate")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot read the migration file migration.hcl",
        ));
}

#[test]
fn a_binary_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("migration.hcl");
    std::fs::write(&path, [0xff, 0xfe, 0x00, 0x9f, 0x92, 0x96]).unwrap();
    let stderr = refused(&path);
    assert!(stderr.contains("is not UTF-8 text"), "{stderr}");
}

/// Every tuning value that cannot work is refused where it is written, with the range it may
/// take.
#[test]
fn zero_and_out_of_range_tuning_values_are_refused_with_their_range() {
    let cases = [
        (
            "replication",
            "commit_interval",
            "\"0s\"",
            "from 10ms to 15s",
        ),
        (
            "replication",
            "commit_interval",
            "\"20s\"",
            "from 10ms to 15s",
        ),
        ("replication", "refresh_interval", "\"0s\"", "from 1s to 1d"),
        (
            "replication",
            "transaction_bytes",
            "\"0B\"",
            "from 64KiB to 4GiB",
        ),
        ("replication", "batch_size", "\"0B\"", "from 1KiB to 1GiB"),
        (
            "replication",
            "fetch_max_bytes",
            "\"0B\"",
            "from 1KiB to 1GiB",
        ),
        (
            "replication",
            "max_bytes_per_second",
            "\"0B\"",
            "from 1KiB to 1024GiB",
        ),
        ("replication", "linger", "\"16m\"", "from 0ms to 15m"),
        (
            "replication",
            "transaction_timeout",
            "\"1s\"",
            "from 10s to 15m",
        ),
        (
            "replication",
            "transaction_timeout",
            "\"1h\"",
            "from 10s to 15m",
        ),
        ("replication", "tasks", "0", "from 1 to 256"),
        (
            "consumer_groups",
            "sync_interval",
            "\"0s\"",
            "from 1s to 1d",
        ),
        ("cutover", "quiet_period", "\"0s\"", "from 1s to 1d"),
    ];
    for (block, name, value, range) in cases {
        let (_dir, path) = file(&format!("{VALID}{block} {{\n  {name} = {value}\n}}\n"));
        let stderr = refused(&path);
        let text = message(&stderr);
        assert!(
            text.contains(&format!("migration.hcl:5:{}:", 6 + name.len())),
            "{name} = {value}: {stderr}"
        );
        assert!(text.contains(range), "{name} = {value}: {stderr}");
    }
    // The commit interval's bound follows the transaction timeout.
    let (_dir, path) = file(&format!(
        "{VALID}replication {{\n  transaction_timeout = \"2m\"\n  commit_interval = \"20s\"\n}}\n"
    ));
    kafka_migrate_bare()
        .args(["validate", "-c"])
        .arg(&path)
        .assert()
        .success();
}

/// `--var-file`: `name = value` lines set the file's variables; a `--var` wins over a file,
/// and a later file over an earlier one; a file that is not `name = value` lines is named.
#[test]
fn a_var_file_sets_variables_and_a_var_wins_over_it() {
    let (dir, path) = file(
        "variable \"env\" { default = \"dev\" }\nvariable \"tasks\" { default = 4 }\nname = \"orders-${var.env}\"\ncluster \"source\" { bootstrap_servers = [\"a:9092\"] }\ncluster \"target\" { bootstrap_servers = [\"b:9092\"] }\nreplication { tasks = var.tasks }\n",
    );
    std::fs::write(
        dir.path().join("prod.tfvars"),
        "env   = \"prod\"\ntasks = 8\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("eu.tfvars"), "env = \"eu\"\n").unwrap();
    let validated = |args: &[&str]| -> serde_json::Value {
        let out = kafka_migrate_bare()
            .current_dir(dir.path())
            .args(["validate", "--json"])
            .args(args)
            .arg("-c")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let json = validated(&["--var-file", "prod.tfvars"]);
    assert_eq!(json["name"], "orders-prod");
    assert_eq!(json["replication"]["tasks"], 8);
    let json = validated(&["--var-file", "prod.tfvars", "--var-file", "eu.tfvars"]);
    assert_eq!(json["name"], "orders-eu");
    let json = validated(&["--var-file", "prod.tfvars", "--var", "env=staging"]);
    assert_eq!(json["name"], "orders-staging");
    assert_eq!(json["replication"]["tasks"], 8);

    std::fs::write(dir.path().join("bad.tfvars"), "cluster \"x\" {}\n").unwrap();
    kafka_migrate_bare()
        .current_dir(dir.path())
        .args(["validate", "--var-file", "bad.tfvars", "-c"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "bad.tfvars holds a block: a variables file holds only `name = value` lines",
        ));
    kafka_migrate_bare()
        .current_dir(dir.path())
        .args(["validate", "--var-file", "missing.tfvars", "-c"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot read the variables file missing.tfvars",
        ));
}
