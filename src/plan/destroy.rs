//! What `destroy` may remove from the target, decided from the target's inventory and the
//! migration's recorded progress, never from what the operator says: the migration's internal
//! topics, and each replicated topic whose every partition provably holds nothing but the
//! migration's own records — its first recorded alignment at target offset 0 and nothing
//! after its last position but the transaction marker that committed it. Anything else is
//! refused with the reason. Pure: no I/O.

use serde::Serialize;

use crate::cluster::Inventory;
use crate::state::Progress;

/// One topic and whether `destroy` removes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Removal {
    pub topic: String,
    /// Whether it is removed (false: refused).
    pub remove: bool,
    /// Why: what proves it holds only the migration's records, or what it holds besides.
    pub reason: String,
}

/// What `destroy` would remove, and what it refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DestroyPlan {
    pub migration: String,
    /// The migration's internal topics on the target (progress, MirrorMaker 2's, the Connect
    /// worker's): always removed.
    pub internal: Vec<Removal>,
    /// The topics the migration selects that are on the target.
    pub topics: Vec<Removal>,
}

impl DestroyPlan {
    /// The topics removed: internal ones first.
    pub fn removed(&self) -> Vec<&str> {
        self.internal
            .iter()
            .chain(&self.topics)
            .filter(|r| r.remove)
            .map(|r| r.topic.as_str())
            .collect()
    }

    /// The topics refused.
    pub fn refused(&self) -> Vec<&Removal> {
        self.topics.iter().filter(|r| !r.remove).collect()
    }
}

/// Decides, for the topics of `target` (the migration's selected topics and its `internal`
/// ones there), what `destroy` removes, from `progress`.
pub fn destroy_plan(
    migration: &str,
    internal: &[String],
    target: &Inventory,
    progress: &Progress,
) -> DestroyPlan {
    let mut plan = DestroyPlan {
        migration: migration.to_string(),
        internal: Vec::new(),
        topics: Vec::new(),
    };
    for (name, topic) in &target.topics {
        if internal.contains(name) {
            plan.internal.push(Removal {
                topic: name.clone(),
                remove: true,
                reason: "the migration's own internal topic".into(),
            });
            continue;
        }
        let mut foreign = Vec::new();
        let mut records = 0u64;
        for (p, part) in &topic.partitions {
            let recorded = progress.get(name, *p);
            let position = recorded.and_then(|r| r.position);
            match (position, recorded.and_then(|r| r.index.first())) {
                // Never replicated into: it must never have held a record.
                (None, _) if part.end == 0 => {}
                (None, _) => foreign.push(format!(
                    "partition {p} holds offsets up to {} and the migration never wrote to it",
                    part.end
                )),
                (Some(_), None) => foreign.push(format!(
                    "partition {p}: the migration's first write is no longer recorded, so what came before it cannot be told"
                )),
                (Some(_), Some(first)) if first.next_target > 0 => foreign.push(format!(
                    "partition {p} held offsets 0..{} before the migration's first record",
                    first.next_target
                )),
                // A commit marker may follow the last record the position counts.
                (Some(at), Some(_)) if part.end > at.next_target + 1 => foreign.push(format!(
                    "partition {p} holds offsets {}..{} after the migration's last record",
                    at.next_target, part.end
                )),
                (Some(_), Some(_)) => records += recorded.map_or(0, |r| r.records),
            }
        }
        plan.topics.push(if foreign.is_empty() {
            Removal {
                topic: name.clone(),
                remove: true,
                reason: format!(
                    "holds only the {records} record(s) the migration replicated (its recorded progress matches the target's offsets)"
                ),
            }
        } else {
            Removal {
                topic: name.clone(),
                remove: false,
                reason: format!(
                    "holds records the migration did not write: {}",
                    foreign.join("; ")
                ),
            }
        });
    }
    plan
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cluster::inventory::{Acls, Partition, Role, Topic};
    use crate::state::progress::{alignment_records, position_records, ProgressValue};
    use crate::state::Position;

    fn target(topics: &[(&str, i64)]) -> Inventory {
        Inventory {
            role: Role::Target,
            brokers: 1,
            topics: topics
                .iter()
                .map(|(name, end)| {
                    let partitions = BTreeMap::from([(
                        0,
                        Partition {
                            log_start: 0,
                            end: *end,
                            last_stable: *end,
                        },
                    )]);
                    (
                        name.to_string(),
                        Topic {
                            name: name.to_string(),
                            replication_factor: 1,
                            partitions,
                            configs: BTreeMap::new(),
                        },
                    )
                })
                .collect(),
            denied_topics: BTreeMap::new(),
            acls: Acls::Unavailable {
                reason: "test".into(),
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

    /// Progress of `topic` partition 0: aligned at target offset `from`, replicated `records`
    /// up to target offset `to`.
    fn replicated(progress: &mut Progress, topic: &str, from: i64, to: i64, records: u64) {
        let start = Position {
            next_source: 0,
            next_target: from,
        };
        let value = ProgressValue {
            position: Position {
                next_source: records as i64,
                next_target: to,
            },
            records,
            bytes: 0,
        };
        for (k, v) in alignment_records(topic, 0, start)
            .into_iter()
            .chain(position_records(topic, 0, value, None))
        {
            progress.fold(0, Some(&k), Some(&v));
        }
    }

    #[test]
    fn only_topics_holding_nothing_but_the_migrations_records_are_removed() {
        let mut progress = Progress::default();
        replicated(&mut progress, "own", 0, 10, 10);
        replicated(&mut progress, "after", 0, 10, 10);
        replicated(&mut progress, "before", 5, 15, 10);
        let plan = destroy_plan(
            "m",
            &["kafka-migrate.m.progress".to_string()],
            &target(&[
                ("kafka-migrate.m.progress", 40),
                // Its commit marker follows the last record.
                ("own", 11),
                ("after", 14),
                ("before", 16),
                ("empty", 0),
                ("untouched", 3),
            ]),
            &progress,
        );
        assert_eq!(plan.removed(), ["kafka-migrate.m.progress", "empty", "own"]);
        let refused: Vec<(&str, &str)> = plan
            .refused()
            .iter()
            .map(|r| (r.topic.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(
            refused,
            [
                ("after", "holds records the migration did not write: partition 0 holds offsets 10..14 after the migration's last record"),
                ("before", "holds records the migration did not write: partition 0 held offsets 0..5 before the migration's first record"),
                ("untouched", "holds records the migration did not write: partition 0 holds offsets up to 3 and the migration never wrote to it"),
            ]
        );
    }
}
