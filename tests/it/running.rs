//! A long-running `apply` as an operator sees it: topics and partitions created on the source
//! while it runs are created on the target and replicated, Prometheus metrics are served, and
//! Ctrl-C drains, commits and exits 0.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use kafka_harness::{data, shared};
use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions};
use rdkafka::client::DefaultClientContext;

use crate::support::{assert_identical, migration_file, wait_for, Running};

/// The body of `GET /metrics`, or None while nothing answers.
fn scrape(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

/// The value of the sample `name` whose labels include every one of `labels`.
fn sample(body: &str, name: &str, labels: &[&str]) -> Option<f64> {
    body.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let rest = series.strip_prefix(name)?;
        (rest.starts_with('{') && labels.iter().all(|l| rest.contains(l)))
            .then(|| value.parse().ok())
            .flatten()
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_running_apply_picks_up_new_topics_and_partitions_serves_metrics_and_drains_on_ctrl_c() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("running").replace('-', "_");
    let (a, b) = (format!("{p}.a"), format!("{p}.b"));
    data::create_topic(&source.admin_config(), &a, 2, 1, &[])
        .await
        .unwrap();
    data::produce(&source.admin_config(), &a, &data::sample_records(5_000, 2))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(
        dir.path(),
        &p,
        &p,
        source,
        target,
        "replication {\n  tasks = 2\n  commit_interval = \"200ms\"\n  refresh_interval = \"1s\"\n}\n",
    );
    let port = free_port();
    let metrics_addr = format!("127.0.0.1:{port}");
    let mut apply = Running::start(
        &config,
        &["apply", "--auto-approve", "--metrics-addr", &metrics_addr],
        dir.path(),
        |_| {},
    );
    let records = |body: &str, topic: &str| {
        sample(
            body,
            "kafka_migrate_records_replicated_total",
            &[&format!("topic=\"{topic}\"")],
        )
    };
    let mut body = String::new();
    let explain = || {
        format!(
            "metrics:\n{}\napply's {}",
            scrape(port).unwrap_or_default(),
            apply.output()
        )
    };
    // An alert on errors has a series from the start: 0 until the first one.
    wait_for(
        Duration::from_secs(60),
        || format!("kafka_migrate_errors_total at 0; {}", explain()),
        || {
            body = scrape(port).unwrap_or_default();
            ["retriable", "fatal"].iter().all(|kind| {
                sample(
                    &body,
                    "kafka_migrate_errors_total",
                    &[&format!("kind=\"{kind}\"")],
                ) == Some(0.0)
            })
        },
    );
    wait_for(
        Duration::from_secs(60),
        || format!("5000 records of .a in the metrics; {}", explain()),
        || {
            body = scrape(port).unwrap_or_default();
            records(&body, &a) == Some(5_000.0)
        },
    );
    // Every series names the migration: two migrations on one Prometheus are two series.
    assert_eq!(
        sample(
            &body,
            "kafka_migrate_records_replicated_total",
            &[&format!("migration=\"{p}\""), &format!("topic=\"{a}\"")],
        ),
        Some(5_000.0),
        "{body}"
    );
    // `status` while it runs: it is running, and how fast it went over the last minute.
    let status = crate::support::succeeds(&config, &["status"]);
    assert!(status.contains("An apply is replicating now."), "{status}");
    // The rate needs two progress records of a partition within the minute: the tasks
    // rewrite their positions every 2 s, busy or idle.
    let mut json = serde_json::Value::Null;
    wait_for(
        Duration::from_secs(30),
        || "a rate in status --json",
        || {
            json = serde_json::from_str(&crate::support::succeeds(&config, &["status", "--json"]))
                .unwrap();
            json["partitions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["records_per_second"].as_f64().is_some())
        },
    );
    assert_eq!(json["running"], true, "{json:#}");

    // While apply runs: a new topic, and more partitions for the first one.
    data::create_topic(&source.admin_config(), &b, 3, 1, &[])
        .await
        .unwrap();
    data::produce(&source.admin_config(), &b, &data::sample_records(3_000, 3))
        .await
        .unwrap();
    let admin: AdminClient<DefaultClientContext> = source.admin_config().create().unwrap();
    for result in admin
        .create_partitions(&[NewPartitions::new(&a, 4)], &AdminOptions::new())
        .await
        .unwrap()
    {
        result.unwrap();
    }
    data::produce(&source.admin_config(), &a, &data::sample_records(2_000, 4))
        .await
        .unwrap();

    wait_for(
        Duration::from_secs(90),
        || format!("the new topic and partitions in the metrics; {}", explain()),
        || {
            body = scrape(port).unwrap_or_default();
            let lag_zero = |topic: &str, partition: i32| {
                sample(
                    &body,
                    "kafka_migrate_lag_records",
                    &[
                        &format!("topic=\"{topic}\""),
                        &format!("partition=\"{partition}\""),
                    ],
                ) == Some(0.0)
            };
            records(&body, &a) == Some(7_000.0)
                && records(&body, &b) == Some(3_000.0)
                && (0..4).all(|n| lag_zero(&a, n))
                && (0..3).all(|n| lag_zero(&b, n))
        },
    );
    assert!(
        sample(&body, "kafka_migrate_commit_seconds_bucket", &["le=\"10\""])
            .is_some_and(|n| n > 0.0),
        "commit latency is served:\n{body}"
    );

    apply.interrupt();
    let status = apply.wait_exit(Duration::from_secs(60));
    let stdout = apply.stdout();
    assert!(status.success(), "apply exited with {status}:\n{stdout}");
    assert!(
        stdout.contains(&format!("create topic \"{b}\" (3 partitions): done")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("grow topic \"{a}\" to 4 partitions: done")),
        "{stdout}"
    );
    assert!(stdout.contains("Replication stopped"), "{stdout}");
    // Stopped: `status` says so at once.
    let status = crate::support::succeeds(&config, &["status"]);
    assert!(
        status.contains("No apply is replicating now: the last progress was written at"),
        "{status}"
    );
    assert_eq!(assert_identical(source, target, &a), 7_000);
    assert_eq!(assert_identical(source, target, &b), 3_000);
}

/// A background task of `apply` that panics (injected in a debug build) stops `apply` with an
/// error naming what failed, instead of leaving it running without that part.
#[tokio::test]
async fn a_panic_in_a_background_task_stops_apply_with_an_error_naming_it() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("bgpanic").replace('-', "_");
    let topic = format!("{p}.a");
    crate::support::topic_with_records(source, &topic, 100).await;
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(
        dir.path(),
        &p,
        &p,
        source,
        target,
        "replication {\n  commit_interval = \"200ms\"\n  refresh_interval = \"1s\"\n}\n",
    );
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "consumer_groups {\n",
        "consumer_groups {\n  sync_interval = \"1s\"\n",
    );
    std::fs::write(&config, text).unwrap();
    for (task, name) in [
        ("refresh", "looking for new topics and partitions failed"),
        ("group-sync", "syncing group offsets failed"),
        ("ends", "reading the source's end offsets failed"),
    ] {
        let mut apply = Running::start(&config, &["apply", "--auto-approve"], dir.path(), |cmd| {
            cmd.env("KAFKA_MIGRATE_INJECT_PANIC", task);
        });
        let status = apply.wait_exit(Duration::from_secs(60));
        assert_eq!(status.code(), Some(1), "{task}: {}", apply.output());
        let stderr = crate::support::flat(&apply.stderr());
        assert!(
            stderr.contains(&format!(
                "apply stopped: {name}: panicked (injected panic in {task})"
            )),
            "{task}: {}",
            apply.output()
        );
    }
    // What was committed stays committed; a run without the panic finishes the job.
    crate::support::apply_until_synced(&config);
    assert_eq!(assert_identical(source, target, &topic), 100);
}

/// `status --watch` shows the status again every few seconds until Ctrl-C, then exits 0.
#[tokio::test]
async fn status_watch_redraws_until_ctrl_c() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("watch").replace('-', "_");
    crate::support::topic_with_records(source, &format!("{p}.a"), 10).await;
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &p, &p, source, target, "");
    let mut watch = Running::start(&config, &["status", "--watch"], dir.path(), |_| {});
    wait_for(
        Duration::from_secs(60),
        || format!("two status tables; {}", watch.output()),
        || watch.stdout().matches("records replicated").count() >= 2,
    );
    watch.interrupt();
    let status = watch.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{status}: {}", watch.output());
    assert!(
        watch.stdout().contains(&format!("Migration \"{p}\"")),
        "{}",
        watch.output()
    );
}
