//! What each command prints, pinned: the text and JSON output, the exit code and the error
//! output of `validate`, `plan`, `apply`, `status`, `verify`, `cutover`, `rollback` and
//! `export connect`, over a whole migration on the shared clusters (with failback) and for a
//! few user mistakes. Each run's unique names, addresses, times, durations and rates are
//! replaced by fixed placeholders ([`Redact`]) so the snapshots (`snapshots/`) are the same on
//! every run; the records written are few and fixed, so offsets and counts are too.

use std::path::{Path, PathBuf};

use kafka_harness::{data, shared, Cluster};
use regex::Regex;

use crate::support::{apply_until_synced, kafka_migrate, kafka_migrate_bare, migration_file};

/// A prefix for topic, group and migration names, unique to the test and of a fixed length
/// (so that text wrapped to a width wraps the same on every run).
fn unique_prefix(test: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(data::unique_name(test).as_bytes());
    format!("{test}_{:016x}", hasher.finish())
}

/// What varies from run to run in a command's output, and the placeholder it becomes.
struct Redact {
    /// Literal strings (unique names, addresses, folders), longest first.
    literals: Vec<(String, &'static str)>,
    /// Whether [`patterns`] apply: what a command measures on a cluster (times, durations,
    /// rates, sizes, fingerprints) and the live progress lines. Offline output has none of
    /// them; its durations are the file's settings, which stay.
    measured: bool,
}

impl Redact {
    /// Only the literals given, for offline output.
    fn new() -> Redact {
        Redact {
            literals: Vec::new(),
            measured: false,
        }
    }

    /// `text` becomes `placeholder` wherever it appears.
    fn literal(mut self, text: impl Into<String>, placeholder: &'static str) -> Redact {
        self.literals.push((text.into(), placeholder));
        self.literals
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        self
    }

    /// The migration's prefix and the shared clusters' addresses and ids.
    fn clusters(prefix: &str, dir: &Path) -> Redact {
        let (source, target) = (shared::plain_source(), shared::target());
        Redact {
            literals: Vec::new(),
            measured: true,
        }
        .literal(prefix, "[PREFIX]")
        .literal(source.bootstrap(), "[SOURCE]")
        .literal(target.bootstrap(), "[TARGET]")
        .literal(dir.display().to_string(), "[DIR]")
    }

    fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (literal, placeholder) in &self.literals {
            out = out.replace(literal.as_str(), placeholder);
        }
        if !self.measured {
            return out;
        }
        // The live progress line of `apply` ("  30 records (0.0 MiB) replicated, lag 0,
        // 12 records/s") is printed every few seconds: how many times depends on how long
        // the run took. Its format is pinned by the render module's unit test.
        out = out
            .lines()
            .filter(|line| !progress_line().is_match(line))
            .map(|line| format!("{line}\n"))
            .collect();
        for (pattern, placeholder) in patterns() {
            out = pattern.replace_all(&out, *placeholder).into_owned();
        }
        out
    }
}

/// A live progress line of `apply` without a terminal.
fn progress_line() -> &'static Regex {
    static LINE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    LINE.get_or_init(|| {
        Regex::new(r"^  \d+ records \(\d+\.\d MiB\) replicated, lag \S+, \d+ records/s$").unwrap()
    })
}

/// The regular expressions of what varies in any output, in the order they apply.
fn patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: std::sync::OnceLock<Vec<(Regex, &'static str)>> = std::sync::OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            // Dates and times (UTC, RFC 3339 or as shown).
            (
                r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?( ?UTC|Z)?",
                "[TIME]",
            ),
            // Milliseconds since the epoch (JSON fields ending in _ms that hold a moment).
            (r#""(\w*at_ms|\w*_at|timestamp\w*)": ?\d+"#, r#""$1": [MS]"#),
            // Durations: "in 1.2s", "1.2s", "350ms", "2m 3s".
            (r"\b\d+(\.\d+)?(ms|s)\b", "[DURATION]"),
            // Rates: in a line, and in the records/s column of `status` (right-aligned).
            (r"(\d+(\.\d+)?|-) records/s", "[RATE] records/s"),
            (r"┆ +(\d+\.\d|-) ┆", "┆ [RATE] ┆"),
            // The rate of a partition in JSON is there only when two progress records fell in
            // the last minute, which depends on how long the run took: left out.
            (r#",\n\s*"records_per_second": [0-9.eE+-]+"#, ""),
            // Sizes.
            (r"\d+(\.\d+)? MiB", "[SIZE] MiB"),
            // Fingerprints of the clusters' state (they cover the unique topic names).
            (
                r#""(\w+_fingerprint)": "[0-9a-f]{64}""#,
                r#""$1": "[FINGERPRINT]""#,
            ),
            // Temporary folders.
            (r"/tmp/\.tmp[A-Za-z0-9]+", "[DIR]"),
            // The process that holds a migration.
            (r"\(pid \d+ on [^)]+\)", "(pid [PID] on [HOST])"),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).unwrap(), r))
        .collect()
    })
}

/// A command's exit code, standard output and standard error, as one snapshot.
fn shown(output: &std::process::Output, redact: &Redact) -> String {
    format!(
        "exit code: {}\n--- stdout\n{}--- stderr\n{}",
        output
            .status
            .code()
            .map_or("none".to_string(), |c| c.to_string()),
        redact.apply(&String::from_utf8_lossy(&output.stdout)),
        redact.apply(&String::from_utf8_lossy(&output.stderr)),
    )
}

/// Runs `kafka-migrate -c FILE ARGS` in the folder of `config`, naming files relative to it
/// (a message wrapped to the width of the terminal wraps the same wherever the temporary
/// folder is), and returns what [`shown`] makes of it.
fn run(config: &Path, args: &[&str], redact: &Redact) -> String {
    let (folder, file) = (config.parent().unwrap(), config.file_name().unwrap());
    let output = kafka_migrate(Path::new(file))
        .current_dir(folder)
        .args(args)
        .timeout(std::time::Duration::from_secs(600))
        .output()
        .unwrap();
    shown(&output, redact)
}

/// A migration on the shared clusters: `PREFIX.orders` (3 partitions, 30 fixed records) and
/// group `PREFIX-app` committed on the source.
struct Lifecycle {
    _dir: tempfile::TempDir,
    config: PathBuf,
    prefix: String,
    orders: String,
    redact: Redact,
}

impl Lifecycle {
    /// Pins what `kafka-migrate ARGS` prints for this migration as the snapshot `name`.
    fn snap(&self, name: &str, args: &[&str]) {
        insta::assert_snapshot!(name, run(&self.config, args, &self.redact));
    }

    /// Producers and a consumer switched to the target after the cutover: 30 records written
    /// there (after each partition's 10 records and transaction marker), and the group
    /// `PREFIX-app` committed `offset` on `partition` there.
    async fn switch_to_target(&self, partition: i32, offset: i64) {
        let target = shared::target();
        produce_fixed(target, &self.orders, false).await;
        data::commit_offsets(
            &target.admin_config(),
            &format!("{}-app", self.prefix),
            &[(self.orders.as_str(), partition, offset)],
        )
        .unwrap();
    }
}

async fn lifecycle(test: &str, extra: &str) -> Lifecycle {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = unique_prefix(test);
    let orders = format!("{prefix}.orders");
    produce_fixed(source, &orders, true).await;
    data::commit_offsets(
        &source.admin_config(),
        &format!("{prefix}-app"),
        &[
            (orders.as_str(), 0, 4),
            (orders.as_str(), 1, 10),
            (orders.as_str(), 2, 0),
        ],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &prefix, &prefix, source, target, extra);
    Lifecycle {
        redact: Redact::clusters(&prefix, dir.path()),
        _dir: dir,
        config,
        prefix,
        orders,
    }
}

/// Writes 30 fixed records over the 3 partitions of `topic` on `cluster` (creating it first
/// when `create`): 10 a partition.
async fn produce_fixed(cluster: &Cluster, topic: &str, create: bool) {
    if create {
        data::create_topic(&cluster.admin_config(), topic, 3, 1, &[])
            .await
            .unwrap();
    }
    // Keys, values and headers are fixed; the timestamps (an hour ago, a millisecond apart)
    // show in no output.
    data::produce(&cluster.admin_config(), topic, &data::sample_records(30, 3))
        .await
        .unwrap();
}

const CUTOVER: &str = "cutover {\n  quiet_period = \"1s\"\n  data_check   = \"full\"\n}\n";

#[tokio::test]
async fn a_whole_migration_with_failback_prints_the_same() {
    let m = lifecycle("snaplife", CUTOVER).await;
    let snap = |name: &str, args: &[&str]| m.snap(name, args);
    snap("lifecycle_01_validate", &["validate"]);
    snap("lifecycle_02_plan", &["plan"]);
    snap("lifecycle_03_plan_json", &["plan", "--json"]);
    snap(
        "lifecycle_04_plan_detailed_exitcode",
        &["plan", "--detailed-exitcode"],
    );
    snap(
        "lifecycle_05_apply_until_synced",
        &["apply", "--auto-approve", "--until-synced"],
    );
    snap("lifecycle_06_plan_after_apply", &["plan"]);
    snap("lifecycle_07_status", &["status"]);
    snap("lifecycle_08_status_json", &["status", "--json"]);
    snap("lifecycle_09_verify", &["verify"]);
    snap("lifecycle_10_verify_json", &["verify", "--json"]);

    let mut file = std::fs::read_to_string(&m.config).unwrap();
    file.push_str("\nfailback {\n  enabled = true\n}\n");
    std::fs::write(&m.config, file).unwrap();
    snap("lifecycle_11_plan_with_failback", &["plan"]);
    snap("lifecycle_12_cutover", &["cutover"]);
    snap("lifecycle_13_cutover_json_again", &["cutover", "--json"]);
    snap("lifecycle_14_status_after_cutover", &["status"]);
    snap(
        "lifecycle_15_verify_json_after_cutover",
        &["verify", "--json"],
    );

    // The group consumed 4 of the records written to the target on partition 0.
    m.switch_to_target(0, 15).await;
    snap(
        "lifecycle_16_apply_failback_until_synced",
        &["apply", "--auto-approve", "--until-synced"],
    );
    snap("lifecycle_17_status_failback", &["status"]);
    snap("lifecycle_18_rollback", &["rollback"]);
    snap("lifecycle_19_rollback_json_again", &["rollback", "--json"]);
    snap(
        "lifecycle_20_apply_after_rollback",
        &["apply", "--auto-approve", "--until-synced"],
    );
}

#[tokio::test]
async fn cutover_and_rollback_print_the_same_as_json() {
    let m = lifecycle(
        "snapjson",
        &format!("{CUTOVER}failback {{\n  enabled = true\n}}\n"),
    )
    .await;
    let snap = |name: &str, args: &[&str]| m.snap(name, args);
    apply_until_synced(&m.config);
    snap("json_01_cutover_json", &["cutover", "--json"]);
    // The group consumed 2 of the records written to the target on partition 1.
    m.switch_to_target(1, 13).await;
    snap(
        "json_02_apply_failback_until_synced",
        &["apply", "--auto-approve", "--until-synced"],
    );
    snap("json_03_status_json_failback", &["status", "--json"]);
    snap("json_04_rollback_json", &["rollback", "--json"]);
    snap("json_05_rollback_again", &["rollback"]);
}

#[tokio::test]
async fn a_stale_saved_plan_and_a_blocker_print_the_same() {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = unique_prefix("snapmist");
    let dir = tempfile::tempdir().unwrap();
    let redact = Redact::clusters(&prefix, dir.path());
    let (s, t) = (source.admin_config(), target.admin_config());
    data::create_topic(&s, &format!("{prefix}.a"), 2, 1, &[])
        .await
        .unwrap();
    let config = migration_file(
        dir.path(),
        &prefix,
        &prefix,
        source,
        target,
        "acls { sync = false }",
    );
    insta::assert_snapshot!(
        "mistake_01_plan_out",
        run(&config, &["plan", "--out", "plan.json"], &redact)
    );
    data::create_topic(&s, &format!("{prefix}.late"), 1, 1, &[])
        .await
        .unwrap();
    insta::assert_snapshot!(
        "mistake_02_apply_stale_plan",
        run(&config, &["apply", "plan.json", "--until-synced"], &redact)
    );

    // More partitions on the target than on the source: a blocker.
    data::create_topic(&s, &format!("{prefix}.wide"), 2, 1, &[])
        .await
        .unwrap();
    data::create_topic(&t, &format!("{prefix}.wide"), 4, 1, &[])
        .await
        .unwrap();
    insta::assert_snapshot!(
        "mistake_03_plan_with_blocker",
        run(&config, &["plan"], &redact)
    );
    insta::assert_snapshot!(
        "mistake_04_plan_json_with_blocker",
        run(&config, &["plan", "--json"], &redact)
    );
    insta::assert_snapshot!(
        "mistake_05_apply_with_blocker",
        run(&config, &["apply", "--auto-approve"], &redact)
    );
}

/// A new user's mistakes, as the first hour meets them: a pattern that selects nothing, a
/// controller port and a SASL listener reached with PLAINTEXT as the source, a saved plan of a
/// migration file changed since.
#[tokio::test]
async fn first_hour_mistakes_print_the_same() {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = unique_prefix("snapfirst");
    let dir = tempfile::tempdir().unwrap();
    let redact = Redact::clusters(&prefix, dir.path())
        .literal(source.controller_bootstrap(), "[CONTROLLER]")
        .literal(shared::secure_source().bootstrap(), "[SASL LISTENER]");
    data::create_topic(
        &source.admin_config(),
        &format!("{prefix}.orders"),
        1,
        1,
        &[],
    )
    .await
    .unwrap();
    let typo = migration_file(
        dir.path(),
        &prefix,
        &format!("{prefix}_ordrs"),
        source,
        target,
        "",
    );
    insta::assert_snapshot!(
        "first_01_plan_selects_nothing",
        run(&typo, &["plan"], &redact)
    );
    insta::assert_snapshot!(
        "first_02_verify_selects_nothing",
        run(&typo, &["verify"], &redact)
    );
    for (name, bootstrap) in [
        (
            "first_03_plan_controller_port",
            source.controller_bootstrap(),
        ),
        (
            "first_04_plan_sasl_listener_with_plaintext",
            shared::secure_source().bootstrap(),
        ),
    ] {
        let config =
            crate::support::plaintext_file(dir.path(), "misdirected.hcl", &bootstrap, target);
        insta::assert_snapshot!(name, run(&config, &["plan"], &redact));
    }
    let config = migration_file(dir.path(), &prefix, &prefix, source, target, "");
    insta::assert_snapshot!(
        "first_05_plan_out",
        run(&config, &["plan", "--out", "plan.json"], &redact)
    );
    insta::assert_snapshot!(
        "first_05a_show_saved_plan",
        run(&config, &["show", "plan.json"], &redact)
    );
    insta::assert_snapshot!(
        "first_05b_show_saved_plan_json",
        run(&config, &["show", "plan.json", "--json"], &redact)
    );
    insta::assert_snapshot!(
        "first_05c_show_missing_plan",
        run(&config, &["show", "missing.json"], &redact)
    );
    let changed = std::fs::read_to_string(&config).unwrap()
        + "replication {\n  delivery = \"at-least-once\"\n}\n";
    std::fs::write(&config, changed).unwrap();
    insta::assert_snapshot!(
        "first_06_apply_plan_of_a_changed_file",
        run(&config, &["apply", "plan.json", "--until-synced"], &redact)
    );
}

/// A migration file in a fresh folder, its clusters nobody listens for.
fn offline_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("migration.hcl");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

const OFFLINE: &str = "name = \"offline\"\ncluster \"source\" { bootstrap_servers = [\"source-1:9092\", \"source-2:9092\"] }\ncluster \"target\" { bootstrap_servers = [\"target-1:9092\"] }\ntopics {\n  include = [\"^orders\\\\.\"]\n}\n";

/// Runs `kafka-migrate ARGS` in `dir` with no `-c` (the file is `migration.hcl` there, or
/// named by a relative path).
fn run_in(dir: &Path, args: &[&str]) -> String {
    let output = kafka_migrate_bare()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    shown(
        &output,
        &Redact::new().literal(dir.display().to_string(), "[DIR]"),
    )
}

#[test]
fn offline_commands_and_mistakes_print_the_same() {
    let (dir, _) = offline_file(OFFLINE);
    let d = dir.path();
    insta::assert_snapshot!("offline_01_validate", run_in(d, &["validate"]));
    insta::assert_snapshot!(
        "offline_02_validate_json",
        run_in(d, &["validate", "--json"])
    );
    insta::assert_snapshot!(
        "offline_03_export_connect",
        run_in(d, &["export", "connect", "--dir", "out"])
    );
    let mut files: Vec<String> = std::fs::read_dir(d.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    insta::assert_snapshot!("offline_04_export_connect_files", files.join("\n"));

    let empty = tempfile::tempdir().unwrap();
    for command in [
        "validate", "plan", "apply", "status", "verify", "cutover", "rollback",
    ] {
        insta::assert_snapshot!(
            format!("offline_05_missing_file_{command}"),
            run_in(empty.path(), &[command])
        );
    }
    let (bad, _) = offline_file(&format!("{OFFLINE}replication {{\n  tasks = 0\n}}\n"));
    insta::assert_snapshot!("offline_06_bad_value", run_in(bad.path(), &["validate"]));
    insta::assert_snapshot!("offline_07_bad_value_plan", run_in(bad.path(), &["plan"]));
    let (typo, _) = offline_file(&format!("{OFFLINE}replication {{\n  taks = 2\n}}\n"));
    insta::assert_snapshot!(
        "offline_08_unknown_attribute",
        run_in(typo.path(), &["validate"])
    );
    let (syntax, _) =
        offline_file("name = \"m\"\ncluster \"source\" {\n  bootstrap_servers = [\"a:1\"\n}\n");
    insta::assert_snapshot!(
        "offline_09_syntax_error",
        run_in(syntax.path(), &["validate"])
    );
    std::fs::write(d.join("garbage.json"), "not json").unwrap();
    insta::assert_snapshot!(
        "offline_10_apply_garbage_plan",
        run_in(d, &["apply", "garbage.json"])
    );
    insta::assert_snapshot!(
        "offline_11_apply_missing_plan",
        run_in(d, &["apply", "missing.json"])
    );
    insta::assert_snapshot!("offline_12_unknown_flag", run_in(d, &["plan", "--jsn"]));
}
