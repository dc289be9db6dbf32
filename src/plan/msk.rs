//! The rules of an Amazon MSK target (`cluster "target" { msk { type = … } }`), as data with
//! the AWS page each comes from, and the pure functions `diff` applies with them: which topic
//! configs the target takes (the rest left out with a warning), the replication factor its
//! topics get, the partition budget (recommended → warning, maximum → blocker), the largest
//! record it accepts, and what stands in for ACLs and a throttle on Serverless; and the
//! declared type against what MSK's API said (fetched with the snapshot). No I/O.

use std::collections::BTreeMap;

use crate::cluster::inventory::{Inventory, Topic};
use crate::cluster::msk_api::MskLookup;
use crate::config::{BrokerSize, Migration, Msk, MskType, BROKER_SIZES};

use super::configs;
use super::model::{Action, Blocker, BlockerKind, Plan, Warning, WarningKind};

/// Topic configs Express brokers take (all others are read-only on Express): "Express broker
/// configurations" (docs.aws.amazon.com/msk/latest/developerguide/msk-configuration-express.html).
pub const EXPRESS_TOPIC_CONFIGS: &[&str] = &[
    "cleanup.policy",
    "compression.type",
    "delete.retention.ms",
    "max.compaction.lag.ms",
    "max.message.bytes",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.type",
    "min.compaction.lag.ms",
    "retention.bytes",
    "retention.ms",
];

/// Settings MSK sets itself on Express brokers (same page): never planned.
pub const EXPRESS_LOCKED: &[&str] = &["min.insync.replicas", "unclean.leader.election.enable"];

/// Topic configs MSK Serverless takes: "Configuration for MSK Serverless clusters"
/// (docs.aws.amazon.com/msk/latest/developerguide/serverless-config.html). `cleanup.policy`
/// at creation only.
pub const SERVERLESS_TOPIC_CONFIGS: &[&str] = &[
    "cleanup.policy",
    "compression.type",
    "max.message.bytes",
    "message.timestamp.difference.max.ms",
    "message.timestamp.type",
    "retention.bytes",
    "retention.ms",
];

/// "MSK Serverless quota" (docs.aws.amazon.com/msk/latest/developerguide/limits.html#serverless-quota).
pub mod serverless {
    /// Largest `max.message.bytes`: 8 MiB.
    pub const MAX_MESSAGE_BYTES: u64 = 8 << 20;
    /// Partitions per cluster (leaders).
    pub const MAX_PARTITIONS: u64 = 2_400;
    /// Partitions of compacted topics per cluster.
    pub const MAX_COMPACTED_PARTITIONS: u64 = 120;
    /// Partitions created (or deleted) per 5 minutes.
    pub const PARTITION_CREATIONS_PER_5_MINUTES: u64 = 250;
    /// Ingress per cluster, bytes per second: 200 MiB/s.
    pub const INGRESS_PER_CLUSTER: u64 = 200 << 20;
    /// Ingress per partition, bytes per second: 5 MiB/s.
    pub const INGRESS_PER_PARTITION: u64 = 5 << 20;
}

/// Express and Serverless topics have three replicas, one per availability zone ("Express
/// broker configurations"; "What is MSK Serverless?").
pub const FIXED_REPLICATION_FACTOR: i32 = 3;

/// The target's MSK block, if it has one.
pub fn target(migration: &Migration) -> Option<&Msk> {
    migration.target().msk.as_ref()
}

/// The replication factor the target's kind imposes on its topics, if it imposes one.
pub fn replication_factor(migration: &Migration) -> Option<i32> {
    match target(migration)?.kind {
        MskType::Express | MskType::Serverless => Some(FIXED_REPLICATION_FACTOR),
        MskType::Standard => None,
    }
}

/// Why a topic of an MSK target of `kind` cannot have config `key` set, if it cannot.
pub fn refuses(kind: MskType, key: &str) -> Option<String> {
    let title = kind.title();
    match kind {
        MskType::Standard if key.starts_with("confluent.") => Some(format!(
            "{title} runs Apache Kafka, which has no confluent.* configs"
        )),
        MskType::Standard => None,
        MskType::Express if EXPRESS_LOCKED.contains(&key) => {
            Some(format!("{title} brokers lock it (MSK sets it)"))
        }
        MskType::Express if !EXPRESS_TOPIC_CONFIGS.contains(&key) => {
            Some(format!("{title} brokers do not let topics set it"))
        }
        MskType::Serverless if !SERVERLESS_TOPIC_CONFIGS.contains(&key) => {
            Some(format!("{title} does not let topics set it"))
        }
        MskType::Express | MskType::Serverless => None,
    }
}

/// Leaves out of `wanted` (the configs planned for `source`'s target topic) what the MSK
/// target refuses: a value copied from the source with a warning naming topic, config and
/// reason; a value the user set in `topics.config.override` is a blocker (the user asked for
/// it). Also blocks a topic whose records the target would refuse for their size.
pub fn restrict(
    migration: &Migration,
    source: &Topic,
    wanted: &mut BTreeMap<String, String>,
    plan: &mut Plan,
) {
    let Some(msk) = target(migration) else {
        return;
    };
    let topic = &source.name;
    let refused: Vec<(String, String)> = wanted
        .keys()
        .filter_map(|k| refuses(msk.kind, k).map(|why| (k.clone(), why)))
        .collect();
    for (key, why) in refused {
        let Some(value) = wanted.remove(&key) else {
            continue;
        };
        if migration.topics.config.overrides.contains_key(&key) {
            plan.blockers.push(Blocker {
                kind: BlockerKind::ConfigRejected,
                subject: format!("topic \"{topic}\""),
                reason: format!(
                    "`topics.config.override` sets {key}={value}, which the target refuses: {why}"
                ),
            });
        } else {
            plan.warnings
                .push(configs::left_out(topic, &key, &value, &why));
        }
    }
    if msk.kind == MskType::Serverless {
        let limit = serverless::MAX_MESSAGE_BYTES;
        let wants = source.max_message_bytes().unwrap_or(0).max(
            wanted
                .get("max.message.bytes")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        );
        if wants > limit {
            plan.blockers.push(Blocker {
                kind: BlockerKind::RecordLimitTooLow,
                subject: format!("topic \"{topic}\""),
                reason: format!(
                    "the source accepts record batches up to {wants} bytes (max.message.bytes), \
                     MSK Serverless at most {limit} bytes (8 MiB): larger records could not be \
                     replicated; migrate this topic to an MSK Provisioned cluster, or exclude it"
                ),
            });
        }
    }
}

/// Leaves out of `changes` those the MSK target refuses (removing a config it does not let
/// topics set is refused as setting it is).
pub fn retain_settable(migration: &Migration, changes: &mut Vec<super::model::ConfigChange>) {
    if let Some(msk) = target(migration) {
        changes.retain(|c| refuses(msk.kind, &c.key).is_none());
    }
}

/// Replicas of the target's topics once `plan` is applied: per topic, (partitions, replication
/// factor, compacted), over the target topics the migration reads and those it creates.
fn planned_topics(plan: &Plan, target: &Inventory) -> BTreeMap<String, (u64, u64, bool)> {
    let mut topics: BTreeMap<String, (u64, u64, bool)> = target
        .topics
        .values()
        .map(|t| {
            (
                t.name.clone(),
                (
                    t.partition_count() as u64,
                    t.replication_factor.max(1) as u64,
                    t.is_compacted(),
                ),
            )
        })
        .collect();
    for action in &plan.actions {
        match action {
            Action::CreateTopic {
                topic,
                partitions,
                replication_factor,
                configs,
            } => {
                let compacted = configs
                    .get("cleanup.policy")
                    .is_some_and(|p| p.split(',').any(|v| v.trim() == "compact"));
                topics.insert(
                    topic.clone(),
                    (
                        *partitions as u64,
                        (*replication_factor).max(1) as u64,
                        compacted,
                    ),
                );
            }
            Action::CreatePartitions { topic, after, .. } => {
                if let Some(t) = topics.get_mut(topic) {
                    t.0 = *after as u64;
                }
            }
            Action::UpdateTopicConfig { .. }
            | Action::CreateAcl { .. }
            | Action::SetClientQuotas { .. } => {}
        }
    }
    topics
}

/// Partitions the plan creates (new topics and added partitions).
fn partitions_created(plan: &Plan) -> u64 {
    plan.actions
        .iter()
        .map(|a| match a {
            Action::CreateTopic { partitions, .. } => *partitions as u64,
            Action::CreatePartitions { before, after, .. } => (after - before).max(0) as u64,
            _ => 0,
        })
        .sum()
}

/// The checks of the whole plan against an MSK target: what MSK's API says the cluster is
/// (against what the migration file declares), its partition budget, the replication factor
/// asked for.
pub fn check(migration: &Migration, target: &Inventory, plan: &mut Plan) {
    let Some(msk) = self::target(migration) else {
        return;
    };
    check_declared(msk, target.msk.as_ref(), plan);
    check_budget(migration, target, plan);
    check_replication_factor(migration, plan);
}

/// The declared `msk` block against MSK's description of the cluster: each value that
/// disagrees is a blocker naming the attribute and both values; else a note of where the
/// type was learnt.
fn check_declared(msk: &Msk, lookup: Option<&MskLookup>, plan: &mut Plan) {
    let subject = format!("target ({})", msk.kind.title());
    let cluster = match lookup {
        Some(MskLookup::Described { cluster }) => cluster,
        Some(MskLookup::Unanswered { reason }) => {
            plan.warnings.push(Warning {
                kind: WarningKind::MskTarget,
                subject,
                message: format!(
                    "planned with the values declared in cluster \"target\" {{ msk {{ … }} }}: \
                     MSK's API (DescribeClusterV2) was not asked or did not answer ({reason})"
                ),
            });
            return;
        }
        None => {
            plan.warnings.push(Warning {
                kind: WarningKind::MskTarget,
                subject,
                message: "planned with the rules of the MSK type declared in the migration \
                          file (cluster \"target\" { msk { … } })"
                    .into(),
            });
            return;
        }
    };
    let mut disagree = |attribute: &str, declared: String, described: String| {
        plan.blockers.push(Blocker {
            kind: BlockerKind::MskMismatch,
            subject: format!("cluster \"target\" msk.{attribute}"),
            reason: format!(
                "declared {declared}, but MSK's API (DescribeClusterV2) describes the cluster \
                 with {described}: correct the msk block"
            ),
        });
    };
    if cluster.kind != msk.kind {
        disagree(
            "type",
            format!("\"{}\"", msk.kind),
            format!("type \"{}\"", cluster.kind),
        );
    }
    if let (Some(declared), Some(described)) = (&msk.broker_type, &cluster.instance_type) {
        if declared != described {
            disagree(
                "broker_type",
                format!("\"{declared}\""),
                format!("instance type \"{described}\""),
            );
        }
    }
    if let (Some(declared), Some(described)) = (msk.brokers, cluster.brokers) {
        if declared != described {
            disagree(
                "brokers",
                declared.to_string(),
                format!("{described} brokers"),
            );
        }
    }
    let mut facts = vec![cluster.kind.title().to_string()];
    if let Some(v) = &cluster.kafka_version {
        facts.push(format!("Kafka {v}"));
    }
    match (cluster.brokers, &cluster.instance_type) {
        (Some(n), Some(t)) => facts.push(format!("{n} {t} broker(s)")),
        (Some(n), None) => facts.push(format!("{n} broker(s)")),
        (None, Some(t)) => facts.push(format!("{t} brokers")),
        (None, None) => {}
    }
    if let Some(mode) = &cluster.storage_mode {
        facts.push(format!("{} storage", mode.to_lowercase()));
    }
    plan.warnings.push(Warning {
        kind: WarningKind::MskTarget,
        subject,
        message: format!(
            "MSK's API (DescribeClusterV2) describes the target as {}",
            facts.join(", ")
        ),
    });
}

/// The broker size and count the partition budget is reckoned with: as declared, else as MSK's
/// API describes them, else (count) the brokers that answer metadata.
fn sizing(msk: &Msk, target: &Inventory) -> (Option<&'static BrokerSize>, u64) {
    let described = match &target.msk {
        Some(MskLookup::Described { cluster }) => Some(cluster),
        _ => None,
    };
    let size = msk.broker_size().or_else(|| {
        let name = described?.instance_type.as_deref()?;
        BROKER_SIZES
            .iter()
            .find(|b| b.kind == msk.kind && b.name == name)
    });
    let brokers = msk
        .brokers
        .or_else(|| described?.brokers)
        .map_or(target.brokers, |b| b as usize)
        .max(1) as u64;
    (size, brokers)
}

/// The partition budget of the MSK target once `plan` is applied: per broker (replicas
/// included) against the broker size's recommended (warning) and maximum (blocker) on
/// Standard and Express; per cluster (leaders, and compacted ones) on Serverless.
fn check_budget(migration: &Migration, target: &Inventory, plan: &mut Plan) {
    let Some(msk) = self::target(migration) else {
        return;
    };
    let topics = planned_topics(plan, target);
    let subject = format!("target ({})", msk.kind.title());
    match msk.kind {
        MskType::Standard | MskType::Express => {
            let (Some(size), brokers) = sizing(msk, target) else {
                return;
            };
            let replicas: u64 = topics.values().map(|(p, rf, _)| p * rf).sum();
            let per_broker = replicas.div_ceil(brokers);
            let numbers = format!(
                "{replicas} partition replicas over {brokers} {} broker(s) is {per_broker} per \
                 broker",
                size.name
            );
            if per_broker > size.maximum {
                plan.blockers.push(Blocker {
                    kind: BlockerKind::PartitionBudgetExceeded,
                    subject,
                    reason: format!(
                        "{numbers}, above the maximum of {} for {}: MSK refuses configuration \
                         updates above it; use a larger broker size or more brokers",
                        size.maximum, size.name
                    ),
                });
            } else if per_broker > size.recommended {
                plan.warnings.push(Warning {
                    kind: WarningKind::PartitionBudget,
                    subject,
                    message: format!(
                        "{numbers}, above the {} AWS recommends for {} (the maximum is {})",
                        size.recommended, size.name, size.maximum
                    ),
                });
            }
        }
        MskType::Serverless => {
            let leaders: u64 = topics.values().map(|(p, _, _)| p).sum();
            let compacted: u64 = topics.values().filter(|t| t.2).map(|(p, _, _)| p).sum();
            for (count, limit, what) in [
                (leaders, serverless::MAX_PARTITIONS, "partitions"),
                (
                    compacted,
                    serverless::MAX_COMPACTED_PARTITIONS,
                    "partitions of compacted topics",
                ),
            ] {
                if count > limit {
                    plan.blockers.push(Blocker {
                        kind: BlockerKind::PartitionBudgetExceeded,
                        subject: subject.clone(),
                        reason: format!(
                            "the target would hold {count} {what}, above MSK Serverless's \
                             {limit} per cluster"
                        ),
                    });
                }
            }
            let created = partitions_created(plan);
            if created > serverless::PARTITION_CREATIONS_PER_5_MINUTES {
                plan.warnings.push(Warning {
                    kind: WarningKind::PartitionBudget,
                    subject: subject.clone(),
                    message: format!(
                        "the plan creates {created} partitions; MSK Serverless creates at most \
                         {} per 5 minutes, so apply waits for its quota",
                        serverless::PARTITION_CREATIONS_PER_5_MINUTES
                    ),
                });
            }
            if migration.replication.max_bytes_per_second.is_none() {
                plan.warnings.push(Warning {
                    kind: WarningKind::MskTarget,
                    subject,
                    message: format!(
                        "replication is throttled to {} MiB/s, MSK Serverless's ingress per \
                         cluster (each partition takes at most {} MiB/s); \
                         `replication.max_bytes_per_second` sets another bound",
                        serverless::INGRESS_PER_CLUSTER >> 20,
                        serverless::INGRESS_PER_PARTITION >> 20
                    ),
                });
            }
        }
    }
}

/// The engine's throttle when the migration sets none: MSK Serverless's ingress per cluster.
pub fn default_throttle(migration: &Migration) -> Option<u64> {
    (target(migration)?.kind == MskType::Serverless).then_some(serverless::INGRESS_PER_CLUSTER)
}

/// Whether the target takes no Kafka ACLs (MSK Serverless: IAM access control only).
pub fn iam_only(migration: &Migration) -> bool {
    target(migration).is_some_and(|m| m.kind == MskType::Serverless)
}

/// A warning when `topics.replication_factor` asks for what the target's kind does not give.
fn check_replication_factor(migration: &Migration, plan: &mut Plan) {
    let (Some(fixed), Some(asked), Some(msk)) = (
        replication_factor(migration),
        migration.topics.replication_factor,
        target(migration),
    ) else {
        return;
    };
    if i32::from(asked) != fixed {
        plan.warnings.push(Warning {
            kind: WarningKind::MskTarget,
            subject: format!("target ({})", msk.kind.title()),
            message: format!(
                "`topics.replication_factor = {asked}` is not used: {} topics always have \
                 replication factor {fixed}",
                msk.kind.title()
            ),
        });
    }
}

pub mod sizing;

#[cfg(test)]
pub(crate) mod tests;
