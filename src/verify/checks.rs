//! The checks that follow from a survey alone: what the clusters hold, the plan still to do,
//! the replication status and the groups' offsets. Pure functions of those values.

use crate::cluster::inventory::{Acls, Inventory};
use crate::cluster::ClusterError;
use crate::config::Migration;
use crate::plan::{Action, BlockerKind, OffsetTarget, Plan, WarningKind};
use crate::replicate::Status;

use super::{Check, CheckStatus, Fact, Findings};

pub const CONNECTIVITY: &str = "connectivity";
pub const TOPICS: &str = "topics";
pub const CONFIGS: &str = "configs";
pub const ACLS: &str = "acls";
pub const QUOTAS: &str = "quotas";
pub const LAG: &str = "lag";
pub const GROUPS: &str = "consumer groups";

/// A cluster could not be reached or read: the error names the cluster and the cause.
pub fn unreachable(error: &ClusterError) -> Check {
    let mut evidence = vec![error.to_string()];
    if let Some(help) = &error.help {
        evidence.push(format!("help: {help}"));
    }
    let summary = if error.kind == crate::cluster::ErrorKind::NotTheMigrations {
        format!(
            "the {} cluster is not the one this migration recorded",
            error.role
        )
    } else {
        format!("the {} cluster could not be read", error.role)
    };
    Check::of(CONNECTIVITY, CheckStatus::Fail, summary, evidence)
}

/// Both clusters answered; what the credentials could not read is named.
pub fn connectivity(source: &Inventory, target: &Inventory, plan: &Plan) -> Check {
    let mut f = Findings::default();
    for (topic, error) in &source.denied_topics {
        f.failures
            .push(format!("source: topic \"{topic}\" cannot be read: {error}").into());
    }
    for b in plan
        .blockers
        .iter()
        .filter(|b| b.kind == BlockerKind::SourceTopicUnreadable)
    {
        f.failures
            .push(format!("source: {}: {}", b.subject, b.reason).into());
    }
    for (inventory, side) in [(source, "source"), (target, "target")] {
        if let Acls::Unavailable { reason } = &inventory.acls {
            f.warnings
                .push(format!("{side}: ACLs could not be listed: {reason}").into());
        }
        // The target's inventory also holds the migration's progress topic: count only the
        // selected (source) topics.
        let selected = inventory
            .topics
            .keys()
            .filter(|t| source.topics.contains_key(*t))
            .count();
        f.notes.push(
            format!(
                "{side}: {} broker(s), {selected} selected topic(s), {} group(s)",
                inventory.brokers,
                inventory.groups.len()
            )
            .into(),
        );
    }
    f.check(
        CONNECTIVITY,
        "both clusters answered with the permissions the migration needs".into(),
        |n| format!("{n} permission problem(s)"),
    )
}

/// Every selected topic is on the target with the source's partition count and the
/// replication factor the migration asks for, holding only what the migration wrote.
pub fn topics(migration: &Migration, source: &Inventory, target: &Inventory, plan: &Plan) -> Check {
    let mut f = Findings::default();
    for (name, topic) in &source.topics {
        let quoted = migration.topics.rename.quoted(name);
        let Some(there) = target.topics.get(name) else {
            f.failures
                .push(format!("topic {quoted} is missing on the target").into());
            continue;
        };
        if there.partition_count() != topic.partition_count() {
            f.failures.push(
                format!(
                    "topic {quoted} has {} partition(s) on the target, {} on the source",
                    there.partition_count(),
                    topic.partition_count()
                )
                .into(),
            );
        }
        let (wanted, why) = match (
            crate::plan::msk::replication_factor(migration),
            migration.topics.replication_factor,
        ) {
            (Some(rf), _) => (rf, "the MSK type's"),
            (None, Some(rf)) => (i32::from(rf), "topics.replication_factor"),
            (None, None) => (topic.replication_factor, "the source's"),
        };
        if there.replication_factor != wanted {
            f.failures.push(
                format!(
                "topic {quoted} has replication factor {} on the target, {wanted} wanted ({why})",
                there.replication_factor
            )
                .into(),
            );
        }
    }
    for b in plan
        .blockers
        .iter()
        .filter(|b| b.kind == BlockerKind::TargetTopicHasForeignRecords)
    {
        f.failures
            .push(format!("{}: {}", b.subject, b.reason).into());
    }
    f.check(
        TOPICS,
        format!(
            "{} topic(s) on the target with equal partition counts and replication factors",
            source.topics.len()
        ),
        |n| format!("{n} topic problem(s)"),
    )
}

/// Topic configs equal after filtering: nothing left for apply to update.
pub fn configs(plan: &Plan) -> Check {
    let mut f = Findings::default();
    for action in &plan.actions {
        if let Action::UpdateTopicConfig { topic, changes } = action {
            for c in changes {
                f.failures.push(
                    format!(
                        "topic \"{topic}\": {} is {} on the target, {} wanted",
                        c.key,
                        c.before.as_deref().unwrap_or("unset"),
                        c.after.as_deref().unwrap_or("unset (the target's default)")
                    )
                    .into(),
                );
            }
        }
    }
    for b in plan.blockers.iter().filter(|b| {
        matches!(
            b.kind,
            BlockerKind::CleanupPolicyMismatch | BlockerKind::ConfigRejected
        )
    }) {
        f.failures
            .push(format!("{}: {}", b.subject, b.reason).into());
    }
    f.check(CONFIGS, "topic configs equal after filtering".into(), |n| {
        format!("{n} config difference(s)")
    })
}

/// Every ACL binding the plan would create is on the target.
pub fn acls(migration: &Migration, source: &Inventory, plan: &Plan) -> Check {
    if !migration.acls.sync {
        return Check::skip(ACLS, "acls.sync = false");
    }
    let mut f = Findings::default();
    if let Acls::Unavailable { reason } = &source.acls {
        f.warnings
            .push(format!("the source's ACLs could not be listed: {reason}").into());
    }
    for action in &plan.actions {
        if let Action::CreateAcl { binding, .. } = action {
            f.failures
                .push(format!("ACL missing on the target: {binding}").into());
        }
    }
    f.warn_of(plan, WarningKind::AclNotExpressible);
    f.check(
        ACLS,
        "every planned ACL binding is on the target".into(),
        |n| format!("{n} ACL binding(s) missing"),
    )
}

/// Every client quota the plan would set is on the target (`quotas { sync = true }`).
pub fn quotas(migration: &Migration, plan: &Plan) -> Check {
    if !migration.quotas.sync {
        return Check::skip(QUOTAS, "quotas.sync = false");
    }
    let mut f = Findings::default();
    for action in &plan.actions {
        if let Action::SetClientQuotas { entity, changes } = action {
            for c in changes {
                let show = |v: Option<f64>| v.map_or("unset".to_string(), |v| v.to_string());
                f.failures.push(
                    format!(
                        "client quotas of {entity}: {} is {} on the target, {} wanted",
                        c.key,
                        show(c.before),
                        show(c.after)
                    )
                    .into(),
                );
            }
        }
    }
    f.warn_of(plan, WarningKind::QuotaLeftOut);
    f.check(
        QUOTAS,
        "the source's client quotas are on the target".into(),
        |n| format!("{n} client quota difference(s)"),
    )
}

/// Every partition caught up with the source's last stable offset (within `cutover.max_lag`).
pub fn lag(migration: &Migration, status: &Status, started: bool) -> Check {
    let max = migration.cutover.max_lag as i64;
    let mut f = Findings::default();
    if !started && status.total_lag() > 0 {
        f.failures.push(
            Fact::NotStarted {
                migration: migration.name.clone(),
            }
            .into(),
        );
    }
    for p in status.partitions.iter().filter(|p| p.lag > max) {
        f.failures.push(
            Fact::Behind {
                topic: p.topic.clone(),
                partition: p.partition,
                lag: p.lag,
                source_end: p.source_end,
                replicated_to: p.replicated_to,
            }
            .into(),
        );
    }
    let total = status.partitions.len();
    f.check(
        LAG,
        if max == 0 {
            format!("{total} partition(s) fully replicated")
        } else {
            format!("{total} partition(s) within cutover.max_lag = {max}")
        },
        |n| format!("{n} of {total} partition(s) behind the source"),
    )
}

/// Target offsets equal the exact translation of the source's; no group consumes on both.
pub fn groups(migration: &Migration, source: &Inventory, target: &Inventory, plan: &Plan) -> Check {
    if !migration.consumer_groups.sync {
        return Check::skip(GROUPS, "consumer_groups.sync = false");
    }
    let mut f = Findings::default();
    let mut in_sync = 0;
    let mut cut_over = 0;
    for g in &plan.group_offsets {
        let on_source = source
            .groups
            .get(&g.group)
            .map(|s| s.members)
            .filter(|m| *m > 0);
        if let Some(why) = &g.cut_over {
            // Cut over to the target, and consuming on the source again: its offsets there
            // move past what the target knows, and a cutover would lose them.
            if let Some(members) = on_source {
                f.failures.push(
                    Fact::GroupActiveOnSource {
                        group: g.group.clone(),
                        members,
                    }
                    .into(),
                );
                continue;
            }
            cut_over += 1;
            f.notes.push(
                Fact::GroupCutOver {
                    group: g.group.clone(),
                    why: why.clone(),
                }
                .into(),
            );
            continue;
        }
        let before = f.failures.len();
        for p in &g.partitions {
            let (group, topic, partition, source_offset) = (
                g.group.clone(),
                p.topic.clone(),
                p.partition,
                p.source_offset,
            );
            match (p.target, p.target_current) {
                (OffsetTarget::Translated { offset }, Some(current)) if current == offset => {}
                (OffsetTarget::Translated { offset }, committed) => f.failures.push(
                    Fact::GroupOffsetWrong {
                        group,
                        topic,
                        partition,
                        source_offset,
                        translated: offset,
                        committed,
                    }
                    .into(),
                ),
                (OffsetTarget::PendingReplication, _) => f.failures.push(
                    Fact::GroupOffsetPending {
                        group,
                        topic,
                        partition,
                        source_offset,
                    }
                    .into(),
                ),
            }
        }
        if f.failures.len() == before {
            in_sync += 1;
        }
        if let Some(members) = on_source {
            f.warnings.push(
                Fact::GroupActiveOnSource {
                    group: g.group.clone(),
                    members,
                }
                .into(),
            );
        }
    }
    for (id, there) in target.groups.iter().filter(|(id, g)| {
        g.is_active() && migration.consumer_groups.selects(id) && source.groups.contains_key(*id)
    }) {
        let fact = match source.groups.get(id).map_or(0, |g| g.members) {
            0 => {
                cut_over += 1;
                f.notes.push(
                    Fact::GroupOnTarget {
                        group: id.clone(),
                        members_on_target: there.members,
                    }
                    .into(),
                );
                continue;
            }
            members => Fact::GroupActiveOnBoth {
                group: id.clone(),
                members_on_source: members,
                members_on_target: there.members,
            },
        };
        f.failures.push(fact.into());
    }
    f.check(
        GROUPS,
        match cut_over {
            0 => format!("{in_sync} group(s) at their exact translated offsets"),
            n => format!("{in_sync} group(s) at their exact translated offsets, {n} cut over"),
        },
        |n| format!("{n} group offset problem(s)"),
    )
}
