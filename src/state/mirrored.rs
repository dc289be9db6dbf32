//! What MirrorMaker 2 has replicated, told by the two clusters' offsets and the Connect
//! worker's. MirrorMaker 2 writes no progress of ours; with identity topic names, each selected
//! source partition has a target partition of the same name and number that MirrorMaker 2
//! filled from the source's first offset on. A partition is caught up when the target holds as
//! many offsets as the source's committed range, or — for a source whose range has gaps
//! (aborted transactions, transaction markers, compaction) — when no committed source record
//! follows the last one MirrorMaker 2's source connector committed in the worker's offsets
//! topic. Caught up, the two logs align at both ends: the source's log start with the
//! target's, the source's last stable offset with the target's end. From those alignments the
//! engine's own lag, parity and exact group-offset translation work unchanged.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::progress::{PartitionProgress, Position, Progress};
use super::read::RangeReader;
use crate::cluster::{factory, ClusterError, Inventory, Role};
use crate::config::names;
use crate::config::Migration;

/// A source partition, by topic and number.
type Key = (String, i32);

/// MirrorMaker 2's replication state as the engine's [`Progress`]: per partition present on
/// both clusters, the position (source offset up to which records are on the target) and
/// the alignment at the logs' start. Partitions in `settled` are known to be caught up
/// whatever their offset counts say.
pub fn mirrored_progress(
    source: &Inventory,
    target: &Inventory,
    settled: &BTreeSet<Key>,
) -> Progress {
    let mut progress = Progress::default();
    for (name, topic) in &source.topics {
        let Some(there) = target.topics.get(name) else {
            continue;
        };
        for (partition, s) in &topic.partitions {
            let Some(t) = there.partitions.get(partition) else {
                continue;
            };
            let source_count = (s.last_stable - s.log_start).max(0);
            // Records of transactions still open on the target do not count.
            let target_count = (t.last_stable - t.log_start).max(0);
            let caught_up =
                target_count >= source_count || settled.contains(&(name.clone(), *partition));
            // Caught up, the target's extra offsets are transaction markers: the records are
            // the source's. Behind, the target's offsets are the best count there is.
            let (next_source, records) = if caught_up {
                (s.last_stable, source_count.min(target_count))
            } else {
                (s.log_start + target_count, target_count)
            };
            progress.partitions.insert(
                (name.clone(), *partition),
                PartitionProgress {
                    position: Some(Position {
                        next_source,
                        next_target: t.end,
                    }),
                    records: records as u64,
                    bytes: 0,
                    index: vec![Position {
                        next_source: s.log_start,
                        next_target: t.log_start,
                    }],
                    // The target's end may follow transaction markers.
                    position_follows_record: false,
                },
            );
        }
    }
    progress
}

/// [`mirrored_progress`], with the partitions whose offset counts differ checked against the
/// source offsets MirrorMaker 2's source connector committed: settled when no committed
/// source record follows the last one it replicated.
pub async fn mirror_progress(
    migration: &Migration,
    source: &Inventory,
    target: &Inventory,
) -> Result<Progress, ClusterError> {
    let counted = mirrored_progress(source, target, &BTreeSet::new());
    let behind: Vec<(Key, i64)> = counted
        .partitions
        .iter()
        .filter_map(|(key, p)| {
            let s = source.topics.get(&key.0)?.partitions.get(&key.1)?;
            let next = p.position?.next_source;
            (next < s.last_stable).then(|| (key.clone(), s.last_stable))
        })
        .collect();
    if behind.is_empty() {
        return Ok(counted);
    }
    let migration = migration.clone();
    let settled = tokio::task::spawn_blocking(move || settled_partitions(&migration, behind))
        .await
        .map_err(|e| error(Role::Target, e.to_string()))??;
    Ok(mirrored_progress(source, target, &settled))
}

fn error(role: Role, cause: String) -> ClusterError {
    ClusterError::other(role, "reading what MirrorMaker 2 replicated", cause)
}

/// Of the `behind` partitions (with the source's last stable offset), those MirrorMaker 2 has
/// replicated every committed record of.
fn settled_partitions(
    migration: &Migration,
    behind: Vec<(Key, i64)>,
) -> Result<BTreeSet<Key>, ClusterError> {
    let reader = |cluster, role: Role| {
        factory::reader(&factory::reader_config(
            &factory::cluster_properties(cluster),
            &migration.name,
            "mirror-inspector",
        ))
        .map(|c| RangeReader::new(role.name(), c, Duration::from_secs(30)))
        .map_err(|e| error(role, e.to_string()))
    };
    let alias = names::source_alias(&migration.name);
    let mut replicated: BTreeMap<Key, i64> = BTreeMap::new();
    reader(migration.target(), Role::Target)?
        .read_topic(
            &names::worker_topic(&migration.name, "offsets"),
            |_, _, key, value| {
                if let Some((partition, offset)) = key.and_then(|k| source_offset(&alias, k, value))
                {
                    match offset {
                        Some(offset) => replicated.insert(partition, offset),
                        None => replicated.remove(&partition),
                    };
                }
            },
        )
        .map_err(|e| error(Role::Target, e.to_string()))?;
    // Partitions MirrorMaker 2 committed an offset for, with where a committed record would
    // follow; those already at the source's last stable offset need no look.
    let mut settled = BTreeSet::new();
    let mut to_probe = Vec::new();
    for (key, last_stable) in behind {
        match replicated.get(&key) {
            Some(last) if last + 1 >= last_stable => {
                settled.insert(key);
            }
            Some(last) => to_probe.push((key, last + 1)),
            None => {}
        }
    }
    if !to_probe.is_empty() {
        let mut source = reader(migration.source(), Role::Source)?;
        settled.extend(source.without_committed_records(&to_probe));
    }
    Ok(settled)
}

/// A record of the Connect worker's offsets topic, if it is a source offset MirrorMaker 2's
/// source connector committed for a partition of the source cluster `alias`: the partition
/// and the offset of the last record replicated (`None`: the offset was removed). Keys are
/// `["<connector>", {"cluster": …, "topic": …, "partition": …}]`, values `{"offset": …}`.
fn source_offset(alias: &str, key: &[u8], value: Option<&[u8]>) -> Option<(Key, Option<i64>)> {
    let key: serde_json::Value = serde_json::from_slice(key).ok()?;
    let partition = key.get(1)?;
    if partition.get("cluster")?.as_str()? != alias || partition.get("group").is_some() {
        return None;
    }
    let topic = partition.get("topic")?.as_str()?.to_string();
    let number = i32::try_from(partition.get("partition")?.as_i64()?).ok()?;
    let offset = match value {
        None => None,
        Some(v) => Some(
            serde_json::from_slice::<serde_json::Value>(v)
                .ok()?
                .get("offset")?
                .as_i64()?,
        ),
    };
    Some(((topic, number), offset))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cluster::inventory::{Acls, Partition, Role, Topic};

    fn inventory(role: Role, partitions: &[(i64, i64)]) -> Inventory {
        let partitions = partitions
            .iter()
            .enumerate()
            .map(|(i, (start, end))| {
                (
                    i as i32,
                    Partition {
                        log_start: *start,
                        end: *end,
                        last_stable: *end,
                    },
                )
            })
            .collect();
        Inventory {
            role,
            brokers: 1,
            topics: [(
                "orders".to_string(),
                Topic {
                    name: "orders".into(),
                    replication_factor: 1,
                    partitions,
                    configs: BTreeMap::new(),
                },
            )]
            .into(),
            denied_topics: BTreeMap::new(),
            acls: Acls::Listed {
                bindings: Vec::new(),
            },
            groups: BTreeMap::new(),
            replicated: BTreeMap::new(),
            defaults: Default::default(),
            quotas: None,
            scram_users: None,
            msk: None,
            residents: None,
        }
    }

    #[test]
    fn a_caught_up_partition_aligns_both_ends_and_a_behind_one_counts_what_is_there() {
        // Partition 0: the source kept offsets 100..150, the target has all 50 records.
        // Partition 1: 30 of 80 records are on the target.
        let source = inventory(Role::Source, &[(100, 150), (0, 80)]);
        let target = inventory(Role::Target, &[(0, 50), (0, 30)]);
        let progress = mirrored_progress(&source, &target, &BTreeSet::new());
        let p0 = progress.get("orders", 0).unwrap();
        assert_eq!(
            p0.position,
            Some(Position {
                next_source: 150,
                next_target: 50
            })
        );
        assert_eq!(
            p0.index,
            vec![Position {
                next_source: 100,
                next_target: 0
            }]
        );
        let p1 = progress.get("orders", 1).unwrap();
        assert_eq!(p1.position.unwrap().next_source, 30);
        assert_eq!(p1.records, 30);
    }

    #[test]
    fn a_settled_partition_is_caught_up_although_the_source_has_more_offsets() {
        // The source's range 0..60 has gaps (aborted records, markers): 50 records on target.
        let source = inventory(Role::Source, &[(0, 60)]);
        let target = inventory(Role::Target, &[(0, 50)]);
        let counted = mirrored_progress(&source, &target, &BTreeSet::new());
        assert_eq!(
            counted
                .get("orders", 0)
                .unwrap()
                .position
                .unwrap()
                .next_source,
            50
        );
        let settled = BTreeSet::from([("orders".to_string(), 0)]);
        let p = mirrored_progress(&source, &target, &settled);
        let p0 = p.get("orders", 0).unwrap();
        assert_eq!(
            p0.position,
            Some(Position {
                next_source: 60,
                next_target: 50
            })
        );
        assert_eq!(p0.records, 50);
    }

    #[test]
    fn source_offsets_of_the_source_connector_are_read_from_the_worker_topic() {
        let key = br#"["orders-source",{"cluster":"mig","partition":3,"topic":"orders"}]"#;
        assert_eq!(
            source_offset("mig", key, Some(br#"{"offset":41}"#)),
            Some((("orders".to_string(), 3), Some(41)))
        );
        assert_eq!(
            source_offset("mig", key, None),
            Some((("orders".to_string(), 3), None))
        );
        // Another migration's, a checkpoint's, a heartbeat's, garbage: not ours.
        assert_eq!(source_offset("other", key, Some(br#"{"offset":41}"#)), None);
        let checkpoint = br#"["cp",{"cluster":"mig","group":"g","partition":0,"topic":"orders"}]"#;
        assert_eq!(
            source_offset("mig", checkpoint, Some(br#"{"offset":1}"#)),
            None
        );
        let heartbeat = br#"["hb",{"sourceClusterAlias":"mig","targetClusterAlias":"target"}]"#;
        assert_eq!(
            source_offset("mig", heartbeat, Some(br#"{"offset":1}"#)),
            None
        );
        assert_eq!(source_offset("mig", b"not json", None), None);
    }
}
