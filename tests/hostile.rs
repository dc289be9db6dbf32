//! The hostile corpus (`tests/hostile/*.hcl`): malformed and adversarial migration files, each
//! with a secret marker in every secret position, run through `validate`, `validate --json`,
//! `plan` against clusters that cannot be reached and `export connect`. No output shows a
//! marker, no exported file holds a line the tool did not mean to write, nothing panics, and a
//! file that is wrong is refused with exit 1 and a message that says where.
//!
//! Each file says what to expect on its second line: `# expect: valid`, `# expect: refused`
//! (a message with `FILE:LINE:COLUMN`) or `# expect: refused-unlocated` (about the command
//! line, not the file).

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

#[allow(dead_code)] // The integration binary uses the rest.
#[path = "it/support/command.rs"]
mod command;

const MARKER: &str = "SECRET-MARKER";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Valid,
    Refused,
    RefusedUnlocated,
}

struct Case {
    name: String,
    path: PathBuf,
    expect: Expect,
    args: Vec<String>,
}

/// The corpus copied into a fresh folder, with what cannot be checked in: a FIFO, a file over
/// the `file()` limit and a 400 KB line.
fn corpus() -> (tempfile::TempDir, Vec<Case>) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let dir = tempfile::tempdir().expect("a temporary folder");
    for entry in std::fs::read_dir(&source).expect("tests/hostile") {
        let path = entry.expect("an entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("a name"))).expect("copied");
    }
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("fifo"))
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo");
    std::fs::write(dir.path().join("big.bin"), vec![b'x'; 2 << 20]).expect("big.bin");
    std::fs::write(
        dir.path().join("37-a-400-kb-line.hcl"),
        format!(
            "# a 400 KB line\n# expect: refused\nname = \"hostile\"\nnotes = \"{}\"\ncluster \"source\" {{\n  bootstrap_servers = [\"127.0.0.1:1\"]\n  security {{\n    protocol = \"SASL_SSL\"\n    sasl {{\n      mechanism = \"PLAIN\"\n      username = \"u\"\n      password = \"SECRET-MARKER-37\"\n    }}\n  }}\n}}\n",
            "x".repeat(400_000)
        ),
    )
    .expect("the long line");

    let mut cases = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("the copy") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "hcl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("UTF-8");
        let expect = match text
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("# expect: "))
        {
            Some("valid") => Expect::Valid,
            Some("refused") => Expect::Refused,
            Some("refused-unlocated") => Expect::RefusedUnlocated,
            other => panic!("{}: no `# expect:` line ({other:?})", path.display()),
        };
        let name = path
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let args = match name.as_str() {
            "27-newline-from-var" => vec!["--var".into(), "user=u\ninjected.key=1".into()],
            "38-bare-var-value" => vec!["--var".into(), "SECRET-MARKER-38".into()],
            _ => Vec::new(),
        };
        cases.push(Case {
            name,
            path,
            expect,
            args,
        });
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(cases.len() >= 40, "{} hostile files", cases.len());
    (dir, cases)
}

/// Runs kafka-migrate with `args` and `-c` the case's file, in the corpus folder.
fn run(case: &Case, args: &[&str]) -> Output {
    run_with(case, args, &[])
}

/// [`run`] with more environment variables.
fn run_with(case: &Case, args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = command::kafka_migrate_bare()
        .current_dir(case.path.parent().expect("a folder"))
        .envs(env.iter().copied())
        .env("HOSTILE_SECRET", "SECRET-MARKER-env")
        .env("HOSTILE_INJECT", "u\ninjected.key=1")
        .env("HOSTILE_REGEX", "SECRET-MARKER-re(")
        .args(args)
        .arg("-c")
        .arg(&case.path)
        .args(&case.args)
        .timeout(Duration::from_secs(90))
        .output()
        .expect("kafka-migrate runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let what = format!("{} {} {env:?}", args.join(" "), case.name);
    assert!(!text.contains(MARKER), "{what} showed a secret:\n{text}");
    assert!(
        !text.contains("panicked") && output.status.code().is_some(),
        "{what} crashed:\n{text}"
    );
    output
}

/// Standard error as text.
fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn validate_shows_no_secret_and_says_where_a_file_is_wrong() {
    let (_dir, cases) = corpus();
    for case in &cases {
        let output = run(case, &["validate"]);
        let err = stderr(&output);
        match case.expect {
            Expect::Valid => assert_eq!(output.status.code(), Some(0), "{}:\n{err}", case.name),
            Expect::Refused => {
                assert_eq!(output.status.code(), Some(1), "{}:\n{err}", case.name);
                let located =
                    regex::Regex::new(&format!(r"{}\.hcl:\d+:\d+:", case.name)).expect("a regex");
                assert!(located.is_match(&err), "{}: not located:\n{err}", case.name);
                assert!(
                    err.len() < 8_000,
                    "{}: {} bytes of error",
                    case.name,
                    err.len()
                );
            }
            Expect::RefusedUnlocated => {
                assert_eq!(output.status.code(), Some(1), "{}:\n{err}", case.name)
            }
        }
    }
}

#[test]
fn validate_json_is_json_and_shows_no_secret() {
    let (_dir, cases) = corpus();
    for case in &cases {
        let output = run(case, &["validate", "--json"]);
        let json: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}):\n{:?}", case.name, output));
        match case.expect {
            Expect::Valid => {
                assert_eq!(output.status.code(), Some(0), "{}", case.name);
                assert!(json.get("cluster").is_some(), "{}: {json}", case.name);
            }
            Expect::Refused | Expect::RefusedUnlocated => {
                assert_eq!(output.status.code(), Some(1), "{}", case.name);
                let error = &json["error"];
                assert!(error["message"].is_string(), "{}: {json}", case.name);
                if case.expect == Expect::Refused {
                    assert!(error["line"].as_u64().is_some_and(|l| l > 0), "{json}");
                    assert!(error["column"].as_u64().is_some_and(|c| c > 0), "{json}");
                    assert!(error["help"].is_string(), "{}: {json}", case.name);
                    let file = error["file"].as_str().unwrap_or_default();
                    assert!(file.ends_with(&format!("{}.hcl", case.name)), "{json}");
                }
            }
        }
    }
}

#[test]
fn export_connect_writes_no_secret_and_no_line_of_the_file_s_own() {
    let (dir, cases) = corpus();
    let key = regex::Regex::new(r"^[a-z][a-z0-9._-]*=").expect("a regex");
    for case in &cases {
        let out = dir.path().join(format!("export-{}", case.name));
        let output = run(
            case,
            &["export", "connect", "--dir", out.to_str().expect("UTF-8")],
        );
        if case.expect != Expect::Valid {
            assert_eq!(output.status.code(), Some(1), "{}", case.name);
            continue;
        }
        assert_eq!(output.status.code(), Some(0), "{}: {output:?}", case.name);
        let worker = std::fs::read_to_string(out.join("connect-distributed.properties"))
            .expect("the worker file");
        let mut keys = std::collections::BTreeSet::new();
        for line in worker.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            assert!(key.is_match(line), "{}: line {line:?}", case.name);
            let (k, _) = line.split_once('=').expect("key=value");
            assert!(keys.insert(k.to_string()), "{}: {k} twice", case.name);
            assert!(!k.starts_with("injected"), "{}: {line}", case.name);
        }
        for entry in std::fs::read_dir(&out).expect("the export") {
            let text = std::fs::read_to_string(entry.expect("a file").path()).expect("text");
            assert!(!text.contains(MARKER), "{}: exported a secret", case.name);
            assert!(!text.contains("\ninjected"), "{}: injected line", case.name);
        }
    }
}

#[test]
fn plan_against_unreachable_clusters_shows_no_secret() {
    let (_dir, cases) = corpus();
    // Valid files reach for the clusters and wait for them; they run side by side.
    std::thread::scope(|scope| {
        for case in &cases {
            scope.spawn(move || {
                let output = run(case, &["plan"]);
                assert_eq!(output.status.code(), Some(1), "{}", case.name);
                if case.expect == Expect::Valid {
                    let err = stderr(&output);
                    assert!(err.contains("cluster"), "{}: {err}", case.name);
                }
            });
        }
        let case = cases
            .iter()
            .find(|c| c.name.starts_with("50-"))
            .expect("the literal-password case");
        scope.spawn(move || {
            let output = run(
                case,
                &[
                    "plan",
                    "--engine",
                    "connect",
                    "--connect-url",
                    "https://admin:SECRET-MARKER-url@127.0.0.1:1",
                ],
            );
            assert_eq!(output.status.code(), Some(1));
        });
    });
}

#[test]
fn tls_verification_off_is_warned_about() {
    let (_dir, cases) = corpus();
    for prefix in ["20-", "21-"] {
        let case = cases
            .iter()
            .find(|c| c.name.starts_with(prefix))
            .expect("the case");
        let output = run(case, &["validate"]);
        let err = stderr(&output);
        assert!(
            err.contains("Warning: cluster \"source\"") && err.contains("TLS verification off"),
            "{}: {err}",
            case.name
        );
    }
}

/// Every file of the corpus at `-vv` and with `KAFKA_MIGRATE_LOG=trace` (every log line of the
/// tool and of librdkafka): `validate` and `plan` show no secret and no control character.
#[test]
fn verbose_and_trace_logs_show_no_secret() {
    let (_dir, cases) = corpus();
    std::thread::scope(|scope| {
        for case in &cases {
            scope.spawn(move || {
                for (args, env) in [
                    (&["-vv", "validate"][..], &[][..]),
                    (&["-vv", "plan"][..], &[][..]),
                    (&["plan"][..], &[("KAFKA_MIGRATE_LOG", "trace")][..]),
                ] {
                    let output = run_with(case, args, env);
                    for bytes in [&output.stdout, &output.stderr] {
                        let text = String::from_utf8_lossy(bytes);
                        assert!(
                            !text
                                .chars()
                                .any(|c| c.is_control() && !matches!(c, '\n' | '\t')),
                            "{} {args:?}: a control character reached the output:\n{text}",
                            case.name
                        );
                    }
                }
            });
        }
    });
}

/// What `-c` and `apply PLAN` are given must be a regular file of a sensible size: a device
/// without end, a FIFO, a 100 MB file and a folder are each refused at once (well under a
/// second), with a message naming the file.
#[test]
fn files_that_cannot_be_a_migration_or_a_plan_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("a folder");
    let fifo = dir.path().join("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let large = dir.path().join("large");
    std::fs::File::create(&large)
        .and_then(|f| f.set_len(100_000_000))
        .expect("a 100 MB file");
    let valid = dir.path().join("migration.hcl");
    std::fs::write(
        &valid,
        "name = \"m\"\ncluster \"source\" { bootstrap_servers = [\"127.0.0.1:1\"] }\ncluster \"target\" { bootstrap_servers = [\"127.0.0.1:1\"] }\n",
    )
    .expect("a migration file");
    let refused = [
        (
            Path::new("/dev/zero").to_path_buf(),
            "is not a regular file",
        ),
        (fifo, "is not a regular file"),
        (large, "is larger than"),
        (dir.path().to_path_buf(), "is a folder"),
    ];
    for (path, why) in &refused {
        let shown = path.display().to_string();
        for (args, what) in [
            (
                vec!["-c".to_string(), shown.clone(), "validate".into()],
                "the migration file",
            ),
            (
                vec![
                    "-c".to_string(),
                    valid.display().to_string(),
                    "apply".into(),
                    shown.clone(),
                ],
                "the plan file",
            ),
        ] {
            let started = std::time::Instant::now();
            let output = command::kafka_migrate_bare()
                .args(&args)
                .timeout(Duration::from_secs(20))
                .output()
                .expect("kafka-migrate runs");
            let took = started.elapsed();
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(1), "{args:?}: {err}");
            assert!(
                took < Duration::from_secs(1),
                "{args:?} took {took:?}: {err}"
            );
            let flat = err
                .split_whitespace()
                .filter(|w| *w != "│")
                .collect::<Vec<_>>()
                .join(" ");
            assert!(
                flat.contains(&format!("{what} {shown}")) && flat.contains(why),
                "{args:?}: {err}"
            );
        }
    }
}
