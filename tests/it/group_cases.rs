//! Consumer groups committed at every kind of position — log start, middle, end, inside a
//! compaction gap, inside and right after aborted transactions, the start of a truncated
//! log — are migrated by `apply`; a consumer resuming each group on the target must read
//! exactly what it would have read resuming on the source. The same groups go through
//! MirrorMaker 2 (checkpoints with group offset sync) to a third cluster: the records its
//! translated offsets would re-read or skip are printed next to ours, and what README says of
//! them is asserted.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafka_harness::connect::MirrorMaker;
use kafka_harness::data::{self, Record, Stored};
use kafka_harness::{shared, Cluster, ClusterSpec, Flavour};
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;

use crate::support::*;

/// One group: what it is called in the table, its topic and its committed source offset.
struct Case {
    name: &'static str,
    topic: String,
    offset: i64,
}

/// `count` records of one partition with unique values (`tag-n`), keys from `keys`, a header
/// and a timestamp each.
fn records(tag: &str, from: usize, count: usize, keys: usize) -> Vec<Record> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    (from..from + count)
        .map(|i| Record {
            partition: 0,
            key: Some(format!("{tag}-key-{}", i % keys).into_bytes()),
            value: Some(format!("{tag}-{i}").into_bytes()),
            headers: vec![("n".to_string(), Some(i.to_string().into_bytes()))],
            timestamp: Some(now + i as i64),
        })
        .collect()
}

fn log(cluster: &Cluster, topic: &str) -> Vec<Stored> {
    data::read_all(&cluster.admin_config(), topic)
        .unwrap()
        .remove(&0)
        .unwrap_or_default()
}

/// What a consumer of `group` resuming on `cluster` reads: the partition from the group's
/// committed offset to the end, read_committed. None when the group has no offset there.
fn resume(cluster: &Cluster, group: &str, topic: &str) -> Option<(i64, Vec<Record>)> {
    let at = committed_offset(cluster, group, topic, 0)?;
    let read = data::read_from(&cluster.admin_config(), topic, 0, at).unwrap();
    Some((at, read.into_iter().map(|s| s.record).collect()))
}

/// How a resumed read compares with what a consumer resuming on the source reads
/// (`expected`, the tail of `source_log`): records read again, records skipped, and records
/// read that no read_committed consumer of the source ever sees (such as aborted ones).
#[derive(Debug, PartialEq, Eq)]
struct Difference {
    reread: usize,
    skipped: usize,
    foreign: usize,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.reread, self.skipped, self.foreign)
    }
}

fn difference(source_log: &[Record], expected: &[Record], read: &[Record]) -> Difference {
    fn count(records: &[Record]) -> BTreeMap<&Option<Vec<u8>>, usize> {
        let mut m = BTreeMap::new();
        for r in records {
            *m.entry(&r.value).or_default() += 1;
        }
        m
    }
    let (all, want, got) = (count(source_log), count(expected), count(read));
    let surplus = |k: &Option<Vec<u8>>, n: usize, of: &BTreeMap<&Option<Vec<u8>>, usize>| {
        n.saturating_sub(of.get(k).copied().unwrap_or(0))
    };
    let mut d = Difference {
        reread: 0,
        skipped: 0,
        foreign: 0,
    };
    for (k, n) in &got {
        let extra = surplus(k, *n, &want);
        if all.contains_key(k) {
            d.reread += extra;
        } else {
            d.foreign += extra;
        }
    }
    d.skipped = want.iter().map(|(k, n)| surplus(k, *n, &got)).sum();
    d
}

/// Consecutive offsets `(a, b)` of `log` with `b - a > min_gap`.
fn gaps(log: &[Stored], min_gap: i64) -> Vec<(i64, i64)> {
    log.windows(2)
        .map(|w| (w[0].offset, w[1].offset))
        .filter(|(a, b)| b - a > min_gap)
        .collect()
}

async fn compacted_topic(source: &Cluster, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = source.admin_config().create().unwrap();
    let configs = |lag: &'static str| {
        [
            ("cleanup.policy", "compact"),
            ("segment.ms", "100"),
            ("min.cleanable.dirty.ratio", "0.01"),
            ("min.compaction.lag.ms", lag),
            ("delete.retention.ms", "3600000"),
        ]
    };
    data::create_topic(&source.admin_config(), topic, 1, 1, &configs("0"))
        .await
        .unwrap();
    // Write keys again (which rolls segments) until the cleaner has removed records.
    let (mut produced, deadline) = (0, Instant::now() + Duration::from_secs(120));
    loop {
        // Half the records rewrite four hot keys, the others have keys of their own: the
        // cleaner leaves gaps between the records it keeps.
        let mut batch = records("c", produced, 40, usize::MAX);
        for (j, r) in batch.iter_mut().enumerate().filter(|(j, _)| j % 2 == 0) {
            r.key = Some(format!("c-hot-{}", j % 4).into_bytes());
        }
        data::produce(&source.admin_config(), topic, &batch)
            .await
            .unwrap();
        produced += batch.len();
        let present = log(source, topic);
        if present.len() < produced && !gaps(&present, 1).is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the log cleaner did not compact {topic} in 120s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // No more cleaning from now on: both sides must keep the records they hold.
    let mut stop = AlterConfig::new(ResourceSpecifier::Topic(topic));
    for (k, v) in configs("604800000") {
        stop = stop.set(k, v);
    }
    for result in admin
        .alter_configs(&[stop], &AdminOptions::new())
        .await
        .unwrap()
    {
        result.unwrap();
    }
}

fn mirror_maker(source: &Cluster, target: &Cluster, prefix: &str) -> MirrorMaker {
    let properties = format!(
        "clusters = source, target
source.bootstrap.servers = {source}
target.bootstrap.servers = {target}
source->target.enabled = true
target->source.enabled = false
source->target.topics = {prefix}\\..*
source->target.groups = {prefix}-.*
replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy
tasks.max = 1
sync.topic.configs.enabled = false
sync.topic.acls.enabled = false
emit.heartbeats.enabled = false
emit.checkpoints.enabled = true
emit.checkpoints.interval.seconds = 1
sync.group.offsets.enabled = true
sync.group.offsets.interval.seconds = 1
refresh.topics.interval.seconds = 1
refresh.groups.interval.seconds = 1
offset-syncs.topic.location = target
replication.factor = 1
offset-syncs.topic.replication.factor = 1
checkpoints.topic.replication.factor = 1
heartbeats.topic.replication.factor = 1
offset.storage.replication.factor = 1
status.storage.replication.factor = 1
config.storage.replication.factor = 1
",
        source = source.bootstrap(),
        target = target.bootstrap()
    );
    MirrorMaker::start(&data::unique_name("groups-mm2"), &properties, 384).unwrap()
}

/// MirrorMaker 2's default `offset.lag.max`: how far behind its last offset sync a translated
/// offset may be.
const MM2_OFFSET_LAG_MAX: usize = 100;

/// What README says of MirrorMaker 2's column, checked for case `name` (its offsets differ
/// from run to run where the source's do, so the numbers themselves are not): it never skips
/// a record; it re-reads between 1 and `offset.lag.max` records from the middle and the end of
/// a log; and a group in or after an aborted transaction reads records the source aborted
/// (MirrorMaker 2 copies them).
fn mirror_maker_claims(name: &str, resumed: Option<&Difference>, failures: &mut Vec<String>) {
    let Some(d) = resumed else {
        failures.push(format!("{name}: MirrorMaker 2 committed no offset"));
        return;
    };
    let mut claim = |holds: bool, what: &str| {
        if !holds {
            failures.push(format!(
                "{name}: MirrorMaker 2 {what}, but read {d} (re-read/skipped/never committed)"
            ));
        }
    };
    claim(d.skipped == 0, "skips no record");
    if matches!(name, "middle" | "log end") {
        claim(
            (1..=MM2_OFFSET_LAG_MAX).contains(&d.reread),
            "re-reads 1 to offset.lag.max records",
        );
    }
    if name.contains("aborted") || name == "abort marker" {
        claim(d.foreign > 0, "reads aborted records");
    }
}

#[tokio::test]
async fn groups_resume_on_the_target_exactly_where_they_stopped_unlike_mirror_maker() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("cases").replace('-', "_");
    let (plain, compacted, txn, truncated) = (
        format!("{p}.plain"),
        format!("{p}.compacted"),
        format!("{p}.txn"),
        format!("{p}.truncated"),
    );
    let admin = source.admin_config();

    data::create_topic(&admin, &plain, 1, 1, &[]).await.unwrap();
    data::produce(&admin, &plain, &records("p", 0, 100, 100))
        .await
        .unwrap();
    compacted_topic(source, &compacted).await;
    data::create_topic(&admin, &txn, 1, 1, &[]).await.unwrap();
    let batches: Vec<Vec<Record>> = (0..6).map(|i| records("t", i * 10, 7, 100)).collect();
    let transactions: Vec<(&[Record], bool)> = batches
        .iter()
        .enumerate()
        .map(|(i, b)| (b.as_slice(), i % 2 == 0))
        .collect();
    data::produce_in_transactions(&admin, &txn, &transactions).unwrap();
    data::create_topic(&admin, &truncated, 1, 1, &[])
        .await
        .unwrap();
    data::produce(&admin, &truncated, &records("r", 0, 80, 80))
        .await
        .unwrap();
    data::delete_records(&admin, &truncated, 0, 30)
        .await
        .unwrap();

    // Where each group stopped, from the source logs as they are.
    let compaction_gap = gaps(&log(source, &compacted), 1)[0];
    // Committed transactions are followed by a marker; an aborted one leaves a wider gap.
    let aborted = gaps(&log(source, &txn), 2)[0];
    let plain_end = log(source, &plain).last().unwrap().offset + 1;
    let cases = [
        ("log start", &plain, 0),
        ("middle", &plain, 50),
        ("log end", &plain, plain_end),
        ("compaction gap", &compacted, compaction_gap.0 + 1),
        ("after compaction gap", &compacted, compaction_gap.1),
        ("inside aborted txn", &txn, aborted.0 + 2),
        ("abort marker", &txn, aborted.1 - 1),
        ("after aborted txn", &txn, aborted.1),
        ("truncated start", &truncated, 30),
    ]
    .map(|(name, topic, offset)| Case {
        name,
        topic: topic.clone(),
        offset,
    });
    let group = |c: &Case| format!("{p}-{}", c.name.replace(' ', "-"));
    for c in &cases {
        data::commit_offsets(&admin, &group(c), &[(&c.topic, 0, c.offset)]).unwrap();
    }

    // MirrorMaker 2 to a cluster of its own, at the same time as kafka-migrate.
    let mm2_target = Cluster::start(ClusterSpec::new(
        &data::unique_name("mm2-target"),
        Flavour::Plain,
    ))
    .unwrap();
    let mut mm2 = mirror_maker(source, &mm2_target, &p);

    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(dir.path(), &p, &p, source, target, "acls { sync = false }");
    // The target keeps what it is given: no cleaning of its own while the test reads.
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "replication_factor = 1\n",
        "replication_factor = 1\n  config {\n    exclude = [\"segment.ms\", \"min.cleanable.dirty.ratio\"]\n  }\n",
    );
    std::fs::write(&config, text).unwrap();
    apply_until_synced(&config);
    // More records after the groups stopped: what they read on resuming.
    data::produce(&admin, &plain, &records("p", 100, 10, 100))
        .await
        .unwrap();
    data::produce(&admin, &compacted, &records("c-more", 0, 10, 10))
        .await
        .unwrap();
    let more = records("t", 100, 10, 100);
    data::produce_in_transactions(&admin, &txn, &[(&more, true)]).unwrap();
    data::produce(&admin, &truncated, &records("r", 80, 10, 80))
        .await
        .unwrap();
    apply_until_synced(&config);

    // MirrorMaker 2 has copied everything and committed what it will for each group.
    let topics = [&plain, &compacted, &txn, &truncated];
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        assert!(
            mm2.running(),
            "MirrorMaker 2 exited; see {}",
            mm2.log().display()
        );
        let copied = topics.iter().all(|t| {
            let want = log(source, t).last().unwrap().record.value.clone();
            // The topic appears on MirrorMaker 2's target when it starts copying it.
            data::read_all(&mm2_target.admin_config(), t)
                .ok()
                .and_then(|mut m| m.remove(&0))
                .is_some_and(|l| l.iter().any(|s| s.record.value == want))
        });
        let synced = cases
            .iter()
            .all(|c| committed_offset(&mm2_target, &group(c), &c.topic, 0).is_some());
        if copied && synced {
            break;
        }
        if Instant::now() > deadline {
            assert!(copied, "MirrorMaker 2 did not copy every record in 180s");
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }

    let row = |cells: [&str; 6]| {
        println!(
            "{:<22} {:>8} {:>8} {:>10} {:>8} {:>10}",
            cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
        )
    };
    println!("\nre-read/skipped/never committed: records a consumer resuming there reads again, misses, or reads although the source aborted them");
    row(["case", "source", "ours", "ours", "MM2", "MM2"]);
    row(["", "offset", "offset", "r/s/n", "offset", "r/s/n"]);
    let mut failures = Vec::new();
    for c in &cases {
        let g = group(c);
        let source_log: Vec<Record> = log(source, &c.topic)
            .into_iter()
            .map(|s| s.record)
            .collect();
        let (s, expected) = resume(source, &g, &c.topic).unwrap();
        assert_eq!(s, c.offset);
        let (t, ours) = resume(target, &g, &c.topic)
            .unwrap_or_else(|| panic!("group {g} has no offset on the target"));
        let diff = difference(&source_log, &expected, &ours);
        let mm2_resumed = resume(&mm2_target, &g, &c.topic)
            .map(|(o, read)| (o, difference(&source_log, &expected, &read)));
        let (mm2_offset, mm2_diff) = match &mm2_resumed {
            Some((o, d)) => (o.to_string(), d.to_string()),
            None => ("none".to_string(), "-".to_string()),
        };
        mirror_maker_claims(c.name, mm2_resumed.as_ref().map(|(_, d)| d), &mut failures);
        row([
            c.name,
            &s.to_string(),
            &t.to_string(),
            &diff.to_string(),
            &mm2_offset,
            &mm2_diff,
        ]);
        if ours != expected {
            failures.push(format!(
                "{}: source {s} → target {t}: {diff} (re-read/skipped/never committed), or a record differs",
                c.name
            ));
        }
    }
    mm2.stop_and_measure().unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
}
