//! `cutover` on real clusters: it waits while a producer writes and a consumer reads on the
//! source (naming both), proceeds once they stop, drains, verifies and records the cutover
//! point, with every group exact on the target; a forward `apply` is then refused; a cutover
//! killed midway finishes when run again.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kafka_harness::data;
use kafka_harness::{shared, Cluster};
use kafka_migrate::state::Store;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::support::schema::run_json;
use crate::support::{
    apply_until_synced, assert_identical, check, full_check_file, kafka_migrate, props,
    topic_with_records_over, verify, wait_for, Running,
};

/// A migrated prefix: `PREFIX.orders` (2 partitions) with group `PREFIX-app` committed on
/// the source, applied until synced.
struct Migrated {
    dir: tempfile::TempDir,
    config: PathBuf,
    prefix: String,
    orders: String,
}

async fn migrated(name: &str, quiet_period: &str) -> Migrated {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = data::unique_name(name).replace('-', "_");
    let orders = format!("{prefix}.orders");
    topic_with_records_over(source, &orders, 2, 200).await;
    data::commit_offsets(
        &source.admin_config(),
        &format!("{prefix}-app"),
        &[(orders.as_str(), 0, 40), (orders.as_str(), 1, 7)],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = full_check_file(dir.path(), &prefix, source, target, quiet_period);
    apply_until_synced(&config);
    Migrated {
        dir,
        config,
        prefix,
        orders,
    }
}

/// A migration file of a fresh prefix with `extra` blocks, whose `PREFIX.orders` (2
/// partitions) holds 100 records on the source: the folder, the file, the prefix, the topic.
async fn with_records(name: &str, extra: &str) -> (tempfile::TempDir, PathBuf, String, String) {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = data::unique_name(name).replace('-', "_");
    let orders = format!("{prefix}.orders");
    topic_with_records_over(source, &orders, 2, 100).await;
    let dir = tempfile::tempdir().unwrap();
    let config =
        crate::support::migration_file(dir.path(), &prefix, &prefix, source, target, extra);
    (dir, config, prefix, orders)
}

/// Runs `work` on a thread of its own until the returned flag is set.
fn until_stopped(
    work: impl Fn() + Send + 'static,
) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            work();
        }
    });
    (stop, handle)
}

/// The end offset of `topic`/`partition` on `cluster`.
fn end_of(cluster: &Cluster, topic: &str, partition: i32) -> i64 {
    let c: BaseConsumer = cluster.admin_config().create().unwrap();
    c.fetch_watermarks(topic, partition, Duration::from_secs(10))
        .unwrap()
        .1
}

#[tokio::test]
async fn cutover_waits_for_a_writing_producer_and_a_reading_consumer_then_records_the_point() {
    let (source, target) = (shared::plain_source(), shared::target());
    let m = migrated("cutover", "2s").await;
    // A producer still writing to the source, and a consumer of a selected group still
    // reading there.
    let producer: BaseProducer = source
        .admin_config()
        .set("enable.idempotence", "true")
        .set("linger.ms", "0")
        .create()
        .unwrap();
    let producer = Arc::new(producer);
    let (topic, writer) = (m.orders.clone(), producer.clone());
    let (stop_writing, writing) = until_stopped(move || {
        let _ = writer.send(
            BaseRecord::<[u8], [u8]>::to(&topic)
                .partition(1)
                .payload(b"late"),
        );
        writer.poll(Duration::from_millis(100));
    });
    let consumer: BaseConsumer = source
        .admin_config()
        .set("group.id", format!("{}-live", m.prefix))
        .set("client.id", "orders-reader")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "200")
        .create()
        .unwrap();
    consumer.subscribe(&[m.orders.as_str()]).unwrap();
    let consumer = Arc::new(consumer);
    let reader = consumer.clone();
    let (stop_reading, reading) = until_stopped(move || {
        reader.poll(Duration::from_millis(100));
    });

    let mut cutover = Running::start(
        &m.config,
        &["cutover", "--timeout", "5m"],
        m.dir.path(),
        |_| {},
    );
    wait_for(
        Duration::from_secs(90),
        || {
            format!(
                "cutover to name the producer and the consumer; {}",
                cutover.output()
            )
        },
        || {
            let out = cutover.stdout();
            out.contains(&format!("written: {} partition 1", m.orders))
                && out.contains("producer id")
                && out.contains(&format!("consumed: group \"{}-live\"", m.prefix))
                && out.contains("client id \"orders-reader\"")
        },
    );
    assert!(
        !cutover.exited(),
        "cutover went on while the source was in use"
    );
    stop_writing.store(true, Ordering::Relaxed);
    writing.join().unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();
    stop_reading.store(true, Ordering::Relaxed);
    reading.join().unwrap();
    // Auto-commit has committed what it read, unless something is left (then this commits it).
    let _ = consumer.commit_consumer_state(rdkafka::consumer::CommitMode::Sync);
    drop(consumer);
    let status = cutover.wait_exit(Duration::from_secs(180));
    let out = cutover.stdout();
    assert!(status.success(), "{}", cutover.output());
    assert!(out.contains("CUT OVER"), "{out}");
    assert!(
        out.contains(&format!("bootstrap.servers={}", target.bootstrap())),
        "{out}"
    );

    // Every record, the late ones included, is on the target once; the point is recorded
    // at both clusters' ends.
    assert_identical(source, target, &m.orders);
    let progress = Store::new(&m.prefix, props(target)).read().unwrap();
    let point = progress.cutover.unwrap().point.unwrap();
    for partition in 0..2 {
        let p = point.get(&m.orders, partition).unwrap();
        assert_eq!(p.source_end, end_of(source, &m.orders, partition));
        assert_eq!(p.target_end, end_of(target, &m.orders, partition));
    }
    // Groups exact: verify passes them, and says the migration is cut over.
    let (code, report) = verify(&m.config);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        check(&report, "consumer groups")["status"],
        "PASS",
        "{report:#}"
    );
    assert_eq!(report["cut_over_at_ms"], point.at_ms);
    for group in ["app", "live"] {
        let name = format!("{}-{group}", m.prefix);
        assert!(
            out.contains(&format!("group \"{name}\" resumes on the target at")),
            "{out}"
        );
    }
    let status = kafka_migrate(&m.config).arg("status").output().unwrap();
    assert!(String::from_utf8_lossy(&status.stdout).contains("Cut over at"));

    // A forward apply is refused, saying why and what to do.
    let refused = kafka_migrate(&m.config)
        .args(["apply", "--auto-approve", "--until-synced"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let err = crate::support::flat(&String::from_utf8_lossy(&refused.stderr));
    assert!(
        err.contains("was cut over at") && err.contains("the target is the system of record"),
        "{err}"
    );
    assert!(err.contains("--abandon-cutover"), "{err}");
    // Run again, cutover says it is done and what to switch.
    let (code, again) = run_json(&m.config, &["cutover", "--json"], "cutover.schema.json");
    assert_eq!(code, Some(0));
    assert_eq!(again["format_version"], "1.0");
    assert_eq!(again["direction"], "cutover");
    assert_eq!(again["complete"], true);
    assert_eq!(again["point"]["at_ms"], point.at_ms);
}

#[tokio::test]
async fn a_cutover_killed_midway_finishes_when_run_again() {
    let m = migrated("cutover_kill", "4s").await;
    let mut first = Running::start(&m.config, &["cutover"], m.dir.path(), |_| {});
    // Killed while verify watches the source, after the drain was recorded.
    wait_for(
        Duration::from_secs(120),
        || format!("the drain to be recorded; {}", first.output()),
        || first.stdout().contains("[3/5] drain: done"),
    );
    first.kill();
    let out = crate::support::succeeds(&m.config, &["cutover"]);
    for step in ["[1/5] preflight", "[2/5] source quiet", "[3/5] drain"] {
        assert!(out.contains(&format!("{step}: done earlier")), "{out}");
    }
    assert!(out.contains("[4/5] verify: done"), "{out}");
    assert!(out.contains("CUT OVER"), "{out}");
    let progress = Store::new(&m.prefix, props(shared::target()))
        .read()
        .unwrap();
    assert!(progress.cutover.unwrap().is_cut_over());
}

/// `cutover` while an `apply` replicates beside it, in both delivery modes: the drain takes
/// the migration over, the apply stops naming the cutover (and the cutover names the run it
/// took over from), and every record is on the target exactly once.
#[tokio::test]
async fn cutover_stops_a_running_apply_in_both_delivery_modes() {
    let (source, target) = (shared::plain_source(), shared::target());
    for delivery in ["exactly-once", "at-least-once"] {
        let (dir, config, prefix, orders) = with_records(
            "beside",
            &format!(
                "cutover {{\n  quiet_period = \"2s\"\n}}\nreplication {{\n  delivery = \"{delivery}\"\n  commit_interval = \"200ms\"\n}}\n"
            ),
        )
        .await;
        let mut apply = Running::start(&config, &["apply", "--auto-approve"], dir.path(), |_| {});
        wait_for(
            Duration::from_secs(90),
            || format!("{delivery}: the apply to replicate; {}", apply.output()),
            || {
                data::read_all(&target.admin_config(), &orders)
                    .is_ok_and(|r| r.values().map(Vec::len).sum::<usize>() == 100)
            },
        );
        let out = crate::support::succeeds(&config, &["cutover"]);
        assert!(out.contains("CUT OVER"), "{delivery}: {out}");
        assert!(
            crate::support::flat(&out).contains(
                "took the migration over from the run that held it (kafka-migrate apply (pid"
            ),
            "{delivery}: {out}"
        );
        let status = apply.wait_exit(Duration::from_secs(60));
        assert!(
            !status.success(),
            "{delivery}: the apply exited with {status}"
        );
        let said = crate::support::flat(&apply.stderr());
        assert!(
            said.contains(&format!(
                "another run of migration \"{prefix}\" took it over: kafka-migrate cutover (pid"
            )),
            "{delivery}: {}",
            apply.output()
        );
        assert_eq!(assert_identical(source, target, &orders), 100, "{delivery}");
        // The point holds every record, and a forward apply is refused from now on.
        let point = Store::new(&prefix, props(target))
            .read()
            .unwrap()
            .cutover
            .unwrap()
            .point
            .unwrap();
        for partition in 0..2 {
            let at = point.get(&orders, partition).unwrap();
            assert_eq!(
                at.source_end,
                end_of(source, &orders, partition),
                "{delivery}"
            );
        }
    }
}

/// The records of `topic`/`partition` on `cluster` from offset `from` on (read_committed).
fn records_from(cluster: &Cluster, topic: &str, partition: i32, from: i64) -> Vec<data::Record> {
    data::read_all(&cluster.admin_config(), topic).unwrap()[&partition]
        .iter()
        .filter(|s| s.offset >= from)
        .map(|s| s.record.clone())
        .collect()
}

#[tokio::test]
async fn failback_then_rollback_returns_to_the_source_exactly() {
    let (source, target) = (shared::plain_source(), shared::target());
    let m = migrated("failback", "2s").await;
    let mut file = std::fs::read_to_string(&m.config).unwrap();
    file.push_str("\nfailback {\n  enabled = true\n}\n");
    std::fs::write(&m.config, file).unwrap();
    let plan = crate::support::succeeds(&m.config, &["plan"]);
    assert!(plan.contains("WRITES TO THE SOURCE"), "{plan}");
    crate::support::succeeds(&m.config, &["cutover"]);
    let point = crate::support::cutover_point(&m.prefix, target);

    // Producers and a consumer switched to the target: records written there, the group
    // consumed part of them (5 on partition 0, none yet on partition 1).
    data::produce(
        &target.admin_config(),
        &m.orders,
        &data::sample_records(30, 2),
    )
    .await
    .unwrap();
    let group = format!("{}-app", m.prefix);
    let p0_end = point.get(&m.orders, 0).unwrap().target_end;
    data::commit_offsets(
        &target.admin_config(),
        &group,
        &[
            (m.orders.as_str(), 0, p0_end + 5),
            (m.orders.as_str(), 1, 7),
        ],
    )
    .unwrap();

    // apply replicates back; rollback runs the gates in reverse.
    let out = crate::support::apply_until_synced(&m.config);
    assert!(out.contains("30 record(s)"), "{out}");
    let out = crate::support::succeeds(&m.config, &["rollback"]);
    assert!(out.contains("ROLLED BACK"), "{out}");
    assert!(out.contains("[4/5] verify in reverse: done"), "{out}");

    for partition in 0..2 {
        let at = point.get(&m.orders, partition).unwrap();
        // The source holds every record the target received after the cutover, in order,
        // once, right after what it held at the cutover.
        let on_target = records_from(target, &m.orders, partition, at.target_end);
        let on_source = records_from(source, &m.orders, partition, at.source_end);
        assert_eq!(on_source, on_target, "partition {partition}");
        assert_eq!(on_target.len(), 15);
        // The group resumed on the source reads exactly what it had not read on the target.
        let there = crate::support::committed_offset(target, &group, &m.orders, partition).unwrap();
        let here = crate::support::committed_offset(source, &group, &m.orders, partition).unwrap();
        assert_eq!(
            records_from(source, &m.orders, partition, here),
            records_from(target, &m.orders, partition, there),
            "group {group} partition {partition}: source offset {here}, target offset {there}"
        );
    }
    // Run again, rollback says it is done and what to switch, as JSON under its schema.
    let (code, again) = run_json(&m.config, &["rollback", "--json"], "rollback.schema.json");
    assert_eq!(code, Some(0));
    assert_eq!(again["direction"], "rollback");
    assert_eq!(again["complete"], true);
    // The migration is back on the source: the cutover is rolled back, and a forward apply
    // copies nothing twice.
    let progress = Store::new(&m.prefix, props(target)).read().unwrap();
    assert!(!progress.cutover.unwrap().is_cut_over());
    crate::support::apply_until_synced(&m.config);
    assert_identical(source, target, &m.orders);
}

/// `cutover.max_lag` lets verify pass with records still to replicate, but the point never
/// takes them in: a record written once after the source went quiet makes cutover refuse,
/// naming the partition (or, had it landed after the point, it lies outside it); run again on
/// a quiet source, it cuts over with every record.
#[tokio::test]
async fn a_write_after_the_quiet_gate_never_lands_inside_the_point() {
    let (source, target) = (shared::plain_source(), shared::target());
    let (dir, config, prefix, orders) = with_records(
        "late_write",
        "cutover {\n  quiet_period = \"2s\"\n  max_lag      = 1000\n  data_check   = \"full\"\n}\n",
    )
    .await;
    apply_until_synced(&config);
    let mut cutover = Running::start(&config, &["cutover"], dir.path(), |_| {});
    wait_for(
        Duration::from_secs(120),
        || format!("the quiet gate to pass; {}", cutover.output()),
        || cutover.stdout().contains("source quiet: done"),
    );
    let before = end_of(source, &orders, 0);
    data::produce(&source.admin_config(), &orders, &data::sample_records(1, 1))
        .await
        .unwrap();
    let status = cutover.wait_exit(Duration::from_secs(180));
    let out = crate::support::flat(&cutover.stdout());
    let progress = || Store::new(&prefix, props(target)).read().unwrap();
    if status.success() {
        // Cut over before the write: the point lies below it.
        let point = progress().cutover.unwrap().point.unwrap();
        assert_eq!(point.get(&orders, 0).unwrap().source_end, before, "{out}");
    } else {
        assert_eq!(status.code(), Some(2), "{}", cutover.output());
        assert!(
            out.contains("was written after it went quiet")
                && out.contains(&format!("{orders} partition 0: end offset {before} →")),
            "{out}"
        );
        assert!(progress().cut_over().is_none(), "{out}");
        // Quiet again: cutover takes every record in.
        let again = crate::support::succeeds(&config, &["cutover"]);
        assert!(again.contains("CUT OVER"), "{again}");
        assert_identical(source, target, &orders);
        let point = progress().cutover.unwrap().point.unwrap();
        assert_eq!(
            point.get(&orders, 0).unwrap().source_end,
            end_of(source, &orders, 0)
        );
    }
}

/// `apply --abandon-cutover` is refused, naming the partition, once the target was written
/// after the cutover; and it records nothing when the operator answers no.
#[tokio::test]
async fn abandoning_a_cutover_is_refused_after_target_writes_and_asks_first() {
    let target = shared::target();
    // Answered no (at a terminal): the cutover stands.
    let m = migrated("abandon_no", "2s").await;
    crate::support::succeeds(&m.config, &["cutover"]);
    let bin = assert_cmd::cargo::cargo_bin("kafka-migrate");
    let line = format!(
        "{} -c {} apply --abandon-cutover",
        bin.display(),
        m.config.display()
    );
    let answered = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"no\n")?;
            child.wait_with_output()
        })
        .unwrap();
    let said = String::from_utf8_lossy(&answered.stdout);
    assert!(said.contains("will be abandoned"), "{said}");
    assert!(
        said.contains("Do you want to perform these actions?"),
        "{said}"
    );
    let progress = Store::new(&m.prefix, props(target)).read().unwrap();
    assert!(progress.cut_over().is_some(), "{said}");

    // Written on the target since: refused, naming the partition; still cut over.
    data::produce(
        &target.admin_config(),
        &m.orders,
        &data::sample_records(1, 1),
    )
    .await
    .unwrap();
    let out = crate::support::kafka_migrate(&m.config)
        .args(["apply", "--abandon-cutover", "--auto-approve"])
        .assert()
        .code(1);
    let said = crate::support::flat(&String::from_utf8_lossy(&out.get_output().stderr));
    assert!(
        said.contains(&format!(
            "{} partition 0 on the target was written after the cutover",
            m.orders
        )),
        "{said}"
    );
    let progress = Store::new(&m.prefix, props(target)).read().unwrap();
    assert!(progress.cut_over().is_some(), "{said}");
}

/// `cutover --dry-run`: every gate checked, the drain told and not run, nothing recorded —
/// the cutover after it runs every step afresh — and an exit code that says whether the
/// gates passed.
#[tokio::test]
async fn a_dry_run_checks_every_gate_and_records_nothing() {
    let m = migrated("dryrun", "1s").await;
    let (code, dry) = run_json(
        &m.config,
        &["cutover", "--dry-run", "--json"],
        "cutover.schema.json",
    );
    assert_eq!(code, Some(0), "{dry:#}");
    assert_eq!(dry["dry_run"], true, "{dry:#}");
    assert_eq!(dry["complete"], false, "{dry:#}");
    assert!(dry.get("point").is_none(), "{dry:#}");
    let steps: Vec<(String, String)> = crate::support::pairs(&dry["steps"], "step", "result");
    assert_eq!(
        steps,
        ["preflight", "quiet", "drained", "verified"].map(|s| (s.to_string(), "done".to_string())),
        "{dry:#}"
    );
    assert!(
        dry["steps"][2]["detail"]
            .as_str()
            .unwrap()
            .starts_with("not run (dry run): it would replicate 0 record(s)"),
        "{dry:#}"
    );
    assert_eq!(
        dry["switch"]["bootstrap_servers"][0],
        shared::target().bootstrap(),
        "{dry:#}"
    );
    let text = kafka_migrate(&m.config)
        .args(["cutover", "--dry-run"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&text.stdout).contains(&format!(
            "DRY RUN: every gate of migration \"{}\" passed; nothing was recorded.",
            m.prefix
        )),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    // Nothing recorded: the real cutover does every step itself, none "done earlier".
    let (code, real) = run_json(&m.config, &["cutover", "--json"], "cutover.schema.json");
    assert_eq!(code, Some(0), "{real:#}");
    assert!(
        real["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["result"] == "done"),
        "{real:#}"
    );
    // Once cut over, a dry run says so instead of pretending to check.
    let out = kafka_migrate(&m.config)
        .args(["cutover", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("was cut over at"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = (&m.dir, &m.orders);
}
