//! The whole lifecycle, twice, as operators run it: migrate → `cutover` (a producer and a group
//! member still live on the source until told) → applications on the target (idempotent and
//! transactional writes with aborts, a partition added, a new selected topic, a record over
//! 1 MB) → failback → `rollback` → forward `apply` with new source records → `cutover` again →
//! failback → `rollback`. After each step both clusters hold the same records, read by the
//! test's own client, and every group resumes exactly where it left off.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kafka_harness::data::{self, Record};
use kafka_harness::{shared, Cluster};
use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions};
use rdkafka::client::DefaultClientContext;

use crate::support::live::Live;
use crate::support::{apply_until_synced, committed_offset, succeeds, wait_for, Running};

/// Records of a topic by partition, in order (read_committed).
type Contents = BTreeMap<i32, Vec<Record>>;

fn contents(cluster: &Cluster, topic: &str) -> Contents {
    data::read_all(&cluster.admin_config(), topic)
        .unwrap()
        .into_iter()
        .map(|(p, stored)| (p, stored.into_iter().map(|s| s.record).collect()))
        .collect()
}

/// The migration under test: its topics and groups (the source's names), and how the target
/// names them.
struct Lifecycle {
    dir: tempfile::TempDir,
    config: PathBuf,
    prefix: String,
    orders: String,
    events: String,
    groups: Vec<String>,
    /// Put before every topic's name on the target.
    topic_prefix: String,
    /// Groups with another id on the target.
    group_ids: BTreeMap<String, String>,
}

impl Lifecycle {
    /// The target's name of the source's topic `topic`.
    fn on_target(&self, topic: &str) -> String {
        format!("{}{topic}", self.topic_prefix)
    }

    /// The target's id of the source's group `group`.
    fn group_on_target(&self, group: &str) -> String {
        self.group_ids
            .get(group)
            .cloned()
            .unwrap_or_else(|| group.to_string())
    }

    fn source(&self) -> &'static Cluster {
        shared::plain_source()
    }

    fn target(&self) -> &'static Cluster {
        shared::target()
    }

    /// Both clusters hold the same records in every selected topic that exists on the source,
    /// and the target has no selected topic the source lacks.
    fn assert_same_records(&self, step: &str) {
        for topic in [&self.orders, &self.events] {
            let there = self.on_target(topic);
            let exists = |c: &Cluster, t: &str| data::read_all(&c.admin_config(), t).is_ok();
            match (exists(self.source(), topic), exists(self.target(), &there)) {
                (false, false) => continue,
                (true, true) => {}
                (on_source, on_target) => {
                    panic!("{step}: {topic} on the source: {on_source}, on the target: {on_target}")
                }
            }
            let (s, t) = (
                contents(self.source(), topic),
                contents(self.target(), &there),
            );
            assert_eq!(
                s.keys().collect::<Vec<_>>(),
                t.keys().collect::<Vec<_>>(),
                "{step}: partitions of {topic}"
            );
            for (partition, records) in &s {
                assert_eq!(
                    records.len(),
                    t[partition].len(),
                    "{step}: record count of {topic} partition {partition}"
                );
                assert_eq!(
                    records, &t[partition],
                    "{step}: records of {topic} partition {partition}"
                );
            }
        }
    }

    /// Every group resumes exactly: on each partition it committed on both clusters, a
    /// consumer starting at the source offset reads what one starting at the target offset
    /// reads.
    fn assert_groups_resume_exactly(&self, step: &str) {
        let mut compared = 0;
        for group in &self.groups {
            for topic in [&self.orders, &self.events] {
                let Ok(partitions) = data::read_all(&self.source().admin_config(), topic) else {
                    continue;
                };
                let (topic_there, group_there) =
                    (self.on_target(topic), self.group_on_target(group));
                let (s, t) = (
                    contents_from(self.source(), topic),
                    contents_from(self.target(), &topic_there),
                );
                for partition in partitions.keys() {
                    let here = committed_offset(self.source(), group, topic, *partition);
                    let there =
                        committed_offset(self.target(), &group_there, &topic_there, *partition);
                    let (Some(here), Some(there)) = (here, there) else {
                        assert_eq!(
                            here.is_some(),
                            there.is_some(),
                            "{step}: group {group} {topic} partition {partition}: committed on the source {here:?}, on the target {there:?}"
                        );
                        continue;
                    };
                    assert_eq!(
                        after(&s, *partition, here),
                        after(&t, *partition, there),
                        "{step}: group {group} {topic} partition {partition}: source offset {here}, target offset {there}"
                    );
                    compared += 1;
                }
            }
        }
        assert!(compared > 0, "{step}: no group offset compared");
    }

    /// `cutover` while a producer writes to the source and a member of a selected group reads
    /// there: it names both and waits; once they stop, it cuts over.
    fn cutover_with_clients_live(&self) {
        let live = Live::start(
            self.source(),
            &self.orders,
            &format!("{}-live", self.prefix),
            "lifecycle-reader",
            Some(1),
        );
        let mut cutover = Running::start(
            &self.config,
            &["cutover", "--timeout", "5m"],
            self.dir.path(),
            |_| {},
        );
        wait_for(
            Duration::from_secs(120),
            || {
                format!(
                    "cutover to name the producer and the consumer; {}",
                    cutover.output()
                )
            },
            || {
                let out = cutover.stdout();
                out.contains("producer id") && out.contains("client id \"lifecycle-reader\"")
            },
        );
        assert!(
            !cutover.exited(),
            "cutover went on while the source was in use"
        );
        live.stop();
        let status = cutover.wait_exit(Duration::from_secs(240));
        assert!(status.success(), "{}", cutover.output());
        assert!(
            cutover.stdout().contains("CUT OVER"),
            "{}",
            cutover.output()
        );
    }

    /// Applications switched to the target: idempotent and transactional writes (one
    /// transaction aborted), a partition added to orders, a new selected topic, a record over
    /// 1 MB, and the group consuming part of it.
    async fn applications_on_the_target(&self, round: usize) {
        let target = self.target();
        let config = target.admin_config();
        let admin: AdminClient<DefaultClientContext> = config.create().unwrap();
        let (orders, events) = (self.on_target(&self.orders), self.on_target(&self.events));
        let partitions = contents(target, &orders).len();
        let grown = admin
            .create_partitions(
                &[NewPartitions::new(&orders, partitions + 1)],
                &AdminOptions::new(),
            )
            .await
            .unwrap();
        assert!(grown.iter().all(Result::is_ok), "{grown:?}");
        let orders_partitions = (partitions + 1) as i32;
        wait_for(
            Duration::from_secs(30),
            || "the new partition to show".to_string(),
            || data::read_all(&config, &orders).is_ok_and(|r| r.len() == partitions + 1),
        );
        data::produce(
            &config,
            &orders,
            &tagged(
                data::sample_records(12, orders_partitions),
                round,
                "idempotent",
            ),
        )
        .await
        .unwrap();
        let committed = tagged(
            data::sample_records(6, orders_partitions),
            round,
            "committed",
        );
        let aborted = tagged(data::sample_records(6, orders_partitions), round, "aborted");
        data::produce_in_transactions(
            &config,
            &orders,
            &[(&committed[..], true), (&aborted[..], false)],
        )
        .unwrap();
        let large = Record {
            partition: 0,
            key: Some(format!("large-{round}").into_bytes()),
            value: Some(vec![b'L'; 1_500_000]),
            headers: vec![("size".into(), Some(b"1.5MB".to_vec()))],
            timestamp: Some(data::sample_records(1, 1)[0].timestamp.unwrap_or(0)),
        };
        data::produce(
            config.clone().set("message.max.bytes", "4000000"),
            &orders,
            &[large],
        )
        .await
        .unwrap();
        if round == 1 {
            data::create_topic(&config, &events, 2, 1, &[("max.message.bytes", "3145728")])
                .await
                .unwrap();
        }
        data::produce(
            &config,
            &events,
            &tagged(data::sample_records(8, 2), round, "events"),
        )
        .await
        .unwrap();
        // The group consumed part of what was written there.
        let group = self.group_on_target(&format!("{}-app", self.prefix));
        let offsets: Vec<(&str, i32, i64)> = (0..orders_partitions)
            .map(|p| {
                let end = committed_end(target, &orders, p);
                (orders.as_str(), p, (end - 2).max(0))
            })
            .chain([(events.as_str(), 0, 1)])
            .collect();
        data::commit_offsets(&config, &group, &offsets).unwrap();
    }

    /// New records written to the source after a rollback, on every partition and topic.
    async fn new_source_records(&self, round: usize) {
        let config = self.source().admin_config();
        let partitions = contents(self.source(), &self.orders).len() as i32;
        data::produce(
            &config,
            &self.orders,
            &tagged(data::sample_records(15, partitions), round, "source"),
        )
        .await
        .unwrap();
        data::produce(
            &config,
            &self.events,
            &tagged(data::sample_records(4, 2), round, "source-events"),
        )
        .await
        .unwrap();
    }
}

/// Records of a topic by partition with their offsets (read_committed).
fn contents_from(cluster: &Cluster, topic: &str) -> BTreeMap<i32, Vec<(i64, Record)>> {
    data::read_all(&cluster.admin_config(), topic)
        .unwrap()
        .into_iter()
        .map(|(p, stored)| {
            (
                p,
                stored.into_iter().map(|s| (s.offset, s.record)).collect(),
            )
        })
        .collect()
}

/// The records of `partition` at or after `offset`.
fn after(all: &BTreeMap<i32, Vec<(i64, Record)>>, partition: i32, offset: i64) -> Vec<&Record> {
    all.get(&partition)
        .map(|r| {
            r.iter()
                .filter(|(o, _)| *o >= offset)
                .map(|(_, r)| r)
                .collect()
        })
        .unwrap_or_default()
}

/// The offset after the last committed record of a partition.
fn committed_end(cluster: &Cluster, topic: &str, partition: i32) -> i64 {
    contents_from(cluster, topic)
        .get(&partition)
        .and_then(|r| r.last())
        .map_or(0, |(o, _)| o + 1)
}

/// `records` with a header saying which round and kind of write they are: every write is
/// told apart from the others.
fn tagged(mut records: Vec<Record>, round: usize, kind: &str) -> Vec<Record> {
    for r in &mut records {
        r.headers.push((
            "written".into(),
            Some(format!("{kind}-{round}").into_bytes()),
        ));
    }
    records
}

/// The migration file of a lifecycle test; `renames` go into the `topics` and
/// `consumer_groups` blocks.
fn lifecycle_file(
    dir: &Path,
    prefix: &str,
    source: &Cluster,
    target: &Cluster,
    renames: (String, String),
) -> PathBuf {
    crate::support::migration_file_with(
        dir,
        prefix,
        (prefix, source, target),
        1,
        (&renames.0, &renames.1),
        "cutover {\n  quiet_period = \"2s\"\n  data_check   = \"full\"\n}\nfailback {\n  enabled = true\n}\nreplication {\n  commit_interval = \"200ms\"\n}\n",
    )
}

/// A migration of `PREFIX.orders` (2 partitions, 60 records, a group `PREFIX-app` at offsets
/// 10 and 5) from the shared source, its topics and groups renamed on the target as
/// `topic_prefix` and `group_ids` say (written into the file with `renames`).
async fn lifecycle(
    name: &str,
    topic_prefix: &str,
    group_ids: impl Fn(&str) -> BTreeMap<String, String>,
    renames: impl Fn(&str) -> (String, String),
) -> Lifecycle {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = data::unique_name(name).replace('-', "_");
    let orders = format!("{prefix}.orders");
    data::create_topic(
        &source.admin_config(),
        &orders,
        2,
        1,
        &[("max.message.bytes", "3145728")],
    )
    .await
    .unwrap();
    data::produce(
        &source.admin_config(),
        &orders,
        &data::sample_records(60, 2),
    )
    .await
    .unwrap();
    let app = format!("{prefix}-app");
    data::commit_offsets(
        &source.admin_config(),
        &app,
        &[(orders.as_str(), 0, 10), (orders.as_str(), 1, 5)],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = lifecycle_file(dir.path(), &prefix, source, target, renames(&prefix));
    Lifecycle {
        config,
        events: format!("{prefix}.events"),
        groups: vec![app, format!("{prefix}-live")],
        orders,
        topic_prefix: topic_prefix.to_string(),
        group_ids: group_ids(&prefix),
        prefix,
        dir,
    }
}

/// Migrates, then `rounds` full cycles: cutover, applications on the target, failback,
/// rollback, forward again — both clusters and every group checked after each step.
async fn cycles(m: &Lifecycle, rounds: usize) {
    apply_until_synced(&m.config);
    m.assert_same_records("migrated");
    for round in 1..=rounds {
        let step = |s: &str| format!("round {round}: {s}");
        m.cutover_with_clients_live();
        m.assert_same_records(&step("cut over"));
        m.assert_groups_resume_exactly(&step("cut over"));

        m.applications_on_the_target(round).await;
        let out = apply_until_synced(&m.config);
        assert!(out.contains("record(s)"), "{out}");
        m.assert_same_records(&step("failed back"));

        let out = succeeds(&m.config, &["rollback"]);
        assert!(out.contains("ROLLED BACK"), "{}: {out}", step("rollback"));
        m.assert_same_records(&step("rolled back"));
        m.assert_groups_resume_exactly(&step("rolled back"));

        // Forward again, with records the source received since.
        m.new_source_records(round).await;
        apply_until_synced(&m.config);
        m.assert_same_records(&step("forward again"));
        m.assert_groups_resume_exactly(&step("forward again"));
    }
}

#[tokio::test]
async fn two_full_cycles_keep_both_clusters_and_every_group_exact() {
    let none = |_: &str| (String::new(), String::new());
    let m = lifecycle("cycles", "", |_| BTreeMap::new(), none).await;
    cycles(&m, 2).await;
}

/// Consolidation with names that clash: another source's migration already holds
/// `PREFIX.orders` and the group `PREFIX-app` on the target under their own names, so this one
/// renames its topics with a prefix and its group one by one — and every step of a full cycle
/// (configs, group offsets, verify, cutover, failback, rollback, a topic created and a
/// partition added on the target) follows the target's names, leaving the other's alone.
#[tokio::test]
async fn a_renamed_migration_follows_its_names_through_a_cycle_beside_a_namesake() {
    let m = lifecycle(
        "renamed",
        "east.",
        |prefix| {
            [(format!("{prefix}-app"), format!("{prefix}-app-from-east"))]
                .into_iter()
                .collect()
        },
        |prefix| {
            (
                "  rename {\n    prefix = \"east.\"\n  }\n".to_string(),
                format!(
                    "  rename {{\n    names = {{ \"{prefix}-app\" = \"{prefix}-app-from-east\" }}\n  }}\n"
                ),
            )
        },
    )
    .await;
    // The namesake: the same topic and group names from another source, migrated as they are.
    let other_source = shared::auto_create();
    data::create_topic(&other_source.admin_config(), &m.orders, 1, 1, &[])
        .await
        .unwrap();
    data::produce(
        &other_source.admin_config(),
        &m.orders,
        &data::sample_records(25, 1),
    )
    .await
    .unwrap();
    let app = format!("{}-app", m.prefix);
    data::commit_offsets(
        &other_source.admin_config(),
        &app,
        &[(m.orders.as_str(), 0, 7)],
    )
    .unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let other = crate::support::migration_file(
        other_dir.path(),
        &format!("{}-namesake", m.prefix),
        &m.prefix,
        other_source,
        m.target(),
        "",
    );
    apply_until_synced(&other);
    let namesake = |step: &str| {
        assert_eq!(
            contents(m.target(), &m.orders),
            contents(other_source, &m.orders),
            "{step}: the namesake's topic"
        );
        assert_eq!(
            committed_offset(m.target(), &app, &m.orders, 0),
            Some(7),
            "{step}: the namesake's group"
        );
    };
    namesake("the namesake migrated");

    // The plan names what it creates on the target by the target's names.
    let plan = succeeds(&m.config, &["plan"]);
    let flat = crate::support::flat(&plan);
    assert!(flat.contains(&format!("east.{}", m.orders)), "{plan}");

    cycles(&m, 1).await;
    namesake("after a renamed cycle");
    // Nothing was written under the source's names by the renamed migration.
    assert_eq!(
        committed_offset(
            m.target(),
            &format!("{}-app-from-east", m.prefix),
            &m.orders,
            0
        ),
        None
    );
    // Its records are under the recorded names: a file renaming otherwise is refused.
    let text = std::fs::read_to_string(&m.config)
        .unwrap()
        .replace("prefix = \"east.\"", "prefix = \"west.\"");
    let changed = m.dir.path().join("changed.hcl");
    std::fs::write(&changed, text).unwrap();
    let out = crate::support::kafka_migrate(&changed)
        .arg("plan")
        .output()
        .unwrap();
    let said = crate::support::flat(&String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("replicated with topics renamed as prefix \"east.\"")
            && said.contains("prefix \"west.\""),
        "{said}"
    );
}
