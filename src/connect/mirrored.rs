//! What MirrorMaker 2 has replicated, told by the two clusters' offsets. MirrorMaker 2 writes
//! no progress of ours; with identity topic names, each selected source partition has a
//! target partition of the same name and number that MirrorMaker 2 filled from the source's
//! first offset on. When the target holds as many offsets as the source's committed range,
//! every record is there and the two logs align at both ends: the source's log start with the
//! target's, the source's last stable offset with the target's end. From those alignments the
//! engine's own lag, parity and exact group-offset translation work unchanged.

use crate::cluster::Inventory;
use crate::replicate::{PartitionProgress, Position, Progress};

/// MirrorMaker 2's replication state as the engine's [`Progress`]: per partition present on
/// both clusters, the position (source offset up to which records are on the target) and
/// the alignment at the logs' start.
pub fn mirrored_progress(source: &Inventory, target: &Inventory) -> Progress {
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
            // Caught up, the target's extra offsets are transaction markers: the records are
            // the source's. Behind, the target's offsets are the best count there is.
            let (next_source, records) = if target_count >= source_count {
                (s.last_stable, source_count)
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
                },
            );
        }
    }
    progress
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
        }
    }

    #[test]
    fn a_caught_up_partition_aligns_both_ends_and_a_behind_one_counts_what_is_there() {
        // Partition 0: the source kept offsets 100..150, the target has all 50 records.
        // Partition 1: 30 of 80 records are on the target.
        let source = inventory(Role::Source, &[(100, 150), (0, 80)]);
        let target = inventory(Role::Target, &[(0, 50), (0, 30)]);
        let progress = mirrored_progress(&source, &target);
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
}
