//! The first hour of a new user, step by step, and what each step must say: the mistakes a
//! new user makes (a pattern that selects nothing, a controller port, a SASL listener reached
//! with PLAINTEXT, a wrong password for `init`) told as such, at once; `init` leaving out a
//! group that only reads topics it leaves out; and `-v` levels that show what they promise
//! without librdkafka's per-message noise or colour codes in a file. The messages themselves
//! are pinned in `snapshots.rs`; here, what must hold around them (exit codes, files, time).

use std::time::{Duration, Instant};

use kafka_harness::{data, shared, ADMIN};

use crate::support::{kafka_migrate, migration_file};

/// A migration of `^PREFIX\.` on the shared plain clusters whose source holds
/// `PREFIX.orders` (with records): the prefix and the file's folder.
async fn with_orders(test: &str) -> (String, tempfile::TempDir) {
    let p = data::unique_name(test).replace('-', "_");
    crate::support::topic_with_records(shared::plain_source(), &format!("{p}.orders"), 10).await;
    (p, tempfile::tempdir().unwrap())
}

fn text(out: &std::process::Output) -> String {
    crate::support::flat(&format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

#[tokio::test]
async fn a_pattern_that_selects_nothing_is_an_error_for_plan_apply_status_and_verify() {
    let (p, dir) = with_orders("selnothing").await;
    let (source, target) = (shared::plain_source(), shared::target());
    let config = migration_file(dir.path(), &p, &format!("{p}_ordrs"), source, target, "");
    for step in [
        &["plan"][..],
        &["apply", "--auto-approve", "--until-synced"],
        &["status"],
        &["verify"],
    ] {
        let out = kafka_migrate(&config).args(step).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{step:?}: {}", text(&out));
        let said = text(&out);
        assert!(
            said.contains(&format!(
                r#"source cluster: selecting topics failed: no topic matches topics {{ include = ["^{p}_ordrs\\..*"] }}"#
            )),
            "{step:?}: {said}"
        );
        assert!(
            said.contains(&format!(
                "the closest topic names on the source: {p}.orders"
            )),
            "{step:?}: {said}"
        );
        assert!(!said.contains("READY FOR CUTOVER"), "{step:?}: {said}");
    }
    // Nothing was left on the target: no progress topic.
    assert!(!crate::support::target_topics().contains(&format!("kafka-migrate.{p}.progress")));
}

/// A source named by its controller port, or by a SASL listener without SASL: said for what
/// it is, within seconds (it took 15 s and said `UnsupportedFeature` or
/// `BrokerTransportFailure`).
#[tokio::test]
async fn a_controller_port_or_a_sasl_listener_reached_with_plaintext_is_named_within_seconds() {
    let target = shared::target();
    let cases = [
        (
            shared::plain_source().controller_bootstrap(),
            "source cluster: connecting failed: the brokers named answer, but not client requests (Metadata): this is a KRaft controller's listener",
            "not the controllers' (controller.quorum.voters)",
        ),
        (
            shared::secure_source().bootstrap(),
            "source cluster: connecting failed: the brokers closed each connection as soon as it was made",
            "a listener that expects SASL or TLS closes a PLAINTEXT client's connections",
        ),
    ];
    for (bootstrap, error, help) in cases {
        let dir = tempfile::tempdir().unwrap();
        let config =
            crate::support::plaintext_file(dir.path(), "migration.hcl", &bootstrap, target);
        let started = Instant::now();
        let out = kafka_migrate(&config).arg("plan").output().unwrap();
        let took = started.elapsed();
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{said}");
        assert!(said.contains(error), "{said}");
        assert!(said.contains(help), "{said}");
        assert!(took < Duration::from_secs(10), "{took:?}: {said}");
    }
}

/// `kafka-migrate init` of the shared SCRAM source as its super user, with `password` in
/// `SOURCE_PASSWORD`, writing `config`.
fn init_secure_source(config: &std::path::Path, password: &str) -> std::process::Output {
    kafka_migrate(config)
        .env("SOURCE_PASSWORD", password)
        .args([
            "init",
            "--source",
            &shared::secure_source().bootstrap(),
            "--source-sasl-mechanism",
            "scram-sha-512",
            "--source-sasl-username",
            ADMIN.name,
        ])
        .output()
        .unwrap()
}

/// `init` with a wrong password: an error, exit 1, and no file — so that the rerun with the
/// right one is not refused for the file the failed run left.
#[test]
fn init_with_a_wrong_password_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("migration.hcl");
    let init = |password: &str| init_secure_source(&config, password);
    let out = init("not-the-password");
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("init wrote nothing: the source could not be read"),
        "{said}"
    );
    assert!(said.contains("authentication"), "{said}");
    assert!(!said.contains("not-the-password"), "{said}");
    assert!(!config.exists());
    let out = init(ADMIN.password);
    assert!(out.status.success(), "{}", text(&out));
    assert!(config.exists());
}

/// A Kafka Streams application's group that commits only on its changelog: `init` leaves the
/// changelog out, so it leaves the group out too, saying why.
#[tokio::test]
async fn init_leaves_out_a_group_whose_only_topic_it_leaves_out() {
    let source = shared::secure_source();
    let p = data::unique_name("initgroup").replace('-', "_");
    let (changelog, orders) = (format!("{p}-store-changelog"), format!("{p}.orders"));
    let admin = source.admin_config();
    for topic in [&changelog, &orders] {
        data::create_topic(&admin, topic, 1, 1, &[]).await.unwrap();
    }
    let (streams, app) = (format!("{p}-streams"), format!("{p}-app"));
    data::commit_offsets(&admin, &streams, &[(changelog.as_str(), 0, 0)]).unwrap();
    data::commit_offsets(&admin, &app, &[(orders.as_str(), 0, 0)]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("migration.hcl");
    let out = init_secure_source(&config, ADMIN.password);
    assert!(out.status.success(), "{}", text(&out));
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(
        written.contains(&format!(
            "  # Left out: {streams} commits offsets only for topics left out ({changelog})."
        )),
        "{written}"
    );
    let out = kafka_migrate(&config)
        .args(["validate", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let exclude: Vec<String> = json["consumer_groups"]["exclude"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    let excludes = |group: &str| {
        exclude
            .iter()
            .any(|p| regex::Regex::new(p).unwrap().is_match(group))
    };
    assert!(excludes(&streams), "{exclude:?}");
    assert!(!excludes(&app), "{exclude:?}");
}

/// `-v`: phases and decisions; `-vv`: each request; `-vvv`: librdkafka's debug log, without
/// the Kafka client's line per message destroyed; never colour codes when standard error is
/// not a terminal.
#[tokio::test]
async fn each_verbosity_level_shows_what_it_promises_and_no_colour_in_a_file() {
    let (p, dir) = with_orders("verbose").await;
    let config = migration_file(
        dir.path(),
        &p,
        &p,
        shared::plain_source(),
        shared::target(),
        "",
    );
    let stderr = |level: &str| {
        let out = kafka_migrate(&config)
            .args([level, "plan"])
            .env_remove("KAFKA_MIGRATE_LOG")
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        assert!(out.status.success(), "{level}: {}", text(&out));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let v = stderr("-v");
    for phase in [
        "Connected.",
        "Read the cluster's topics and groups the migration selects.",
        "Planned the migration.",
    ] {
        assert!(v.contains(phase), "-v lacks {phase:?}:\n{v}");
    }
    assert!(!v.contains("Listing offsets."), "-v:\n{v}");
    let vv = stderr("-vv");
    assert!(vv.contains("Listing offsets."), "-vv:\n{vv}");
    assert!(vv.contains("Describing topic configs."), "-vv:\n{vv}");
    let vvv = stderr("-vvv");
    assert!(vvv.contains("librdkafka"), "-vvv has no librdkafka debug");
    assert!(
        !vvv.contains("Destroying"),
        "-vvv has the per-message noise"
    );
    // The issue measured 45,585 lines; the debug of one plan is a few thousand at most.
    assert!(
        vvv.lines().count() < 10_000,
        "{} lines",
        vvv.lines().count()
    );
    for (level, text) in [("-v", &v), ("-vv", &vv), ("-vvv", &vvv)] {
        assert!(!text.contains('\u{1b}'), "{level}: colour codes in a file");
    }
}
