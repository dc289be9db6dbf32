//! `diff`: the pure function from a migration and two inventories to a [`Plan`].

use std::collections::BTreeSet;

use crate::cluster::inventory::{Acls, Inventory, Topic};
use crate::cluster::native::{AclBinding, PatternType, ResourceType};
use crate::config::Migration;

use super::model::*;
use super::{configs, limits, msk};

/// Computes what the migration will change on the target, for the engine that replicates.
/// No I/O: the same inputs always give the same plan.
pub fn diff(migration: &Migration, source: &Inventory, target: &Inventory, engine: Engine) -> Plan {
    let mut plan = Plan {
        format_version: FORMAT_VERSION.to_string(),
        migration: migration.name.clone(),
        source_fingerprint: source.fingerprint(),
        target_fingerprint: target.fingerprint(),
        migration_fingerprint: migration.fingerprint(),
        actions: Vec::new(),
        iam_policies: Vec::new(),
        renamed: Vec::new(),
        group_offsets: Vec::new(),
        units: Vec::new(),
        blockers: Vec::new(),
        warnings: Vec::new(),
    };
    // MirrorMaker 2 keeps its state in the Connect worker's topics, not in a progress topic.
    let progress = crate::config::names::progress_topic(&migration.name);
    if engine == Engine::Native && !target.topics.contains_key(&progress) {
        plan.actions.push(Action::CreateTopic {
            topic: progress,
            partitions: 1,
            replication_factor: target.brokers.clamp(1, 3) as i32,
            configs: [("cleanup.policy".to_string(), "compact".to_string())].into(),
        });
    }
    let units = super::units::recognise(migration, source);
    let mut added = super::units::added(&units);
    if engine == Engine::Connect && !added.is_empty() {
        // MirrorMaker 2 replicates what the file's patterns select, nothing more.
        plan.warnings.push(Warning {
            kind: WarningKind::UnitInPart,
            subject: "connect engine".into(),
            message: format!(
                "MirrorMaker 2 replicates only the topics the file selects: the applications' {} stay behind; name them in `topics.names` to carry them",
                added.iter().map(|t| crate::quote::terminal(t)).collect::<Vec<_>>().join(", ")
            ),
        });
        added.clear();
    }
    let warnings = super::units::warnings(&units, source, migration);
    plan.units = super::units::concerned(units, &warnings);
    plan.warnings.extend(warnings);
    let selected = selected_topics(migration, source, &added, &mut plan);
    check_renames(migration, source, &selected, engine, &mut plan);
    for topic in &selected {
        diff_topic(migration, topic, target, &mut plan);
    }
    if migration.acls.sync {
        diff_acls(migration, source, target, &selected, &mut plan);
    }
    super::quotas::diff(migration, source, target, &mut plan);
    if let Some(users) = &source.scram_users {
        plan.warnings
            .extend(super::scram_secrets::plan_warnings(migration, users));
    }
    if migration.consumer_groups.sync {
        diff_groups(migration, source, target, &selected, &mut plan);
    }
    msk::check(migration, target, &mut plan);
    if migration.failback.enabled {
        plan.warnings.push(Warning {
            kind: WarningKind::FailbackWritesSource,
            subject: "failback".into(),
            message: format!(
                "failback is enabled: after `cutover`, apply WRITES TO THE SOURCE — it appends the records produced on the target to the same source partitions, creates {} there and commits consumer group offsets there, so that `rollback` can return to the source",
                crate::config::names::failback_progress_topic(&migration.name)
            ),
        });
    }
    plan
}

/// The source topics the migration selects, and those `added` because their unit moves, with
/// a blocker for each selected topic that the credentials cannot read and each explicitly
/// named topic that is not there.
fn selected_topics<'a>(
    migration: &Migration,
    source: &'a Inventory,
    added: &BTreeSet<String>,
    plan: &mut Plan,
) -> Vec<&'a Topic> {
    for (name, error) in &source.denied_topics {
        if migration.topics.selects(name) || added.contains(name) {
            plan.blockers.push(Blocker {
                kind: BlockerKind::SourceTopicUnreadable,
                subject: format!("topic \"{name}\""),
                reason: format!("the source credentials cannot read it: {error}"),
            });
        }
    }
    for name in migration.topics.names() {
        if !source.topics.contains_key(name) && !source.denied_topics.contains_key(name) {
            plan.blockers.push(Blocker {
                kind: BlockerKind::SourceTopicUnreadable,
                subject: format!("topic \"{name}\""),
                reason: "named in `topics` but not found on the source, or not visible to its credentials".into(),
            });
        }
    }
    source
        .topics
        .values()
        .filter(|t| migration.topics.selects(&t.name) || added.contains(&t.name))
        .collect()
}

fn diff_topic(migration: &Migration, source: &Topic, target: &Inventory, plan: &mut Plan) {
    let name = &source.name;
    let subject = format!("topic {}", migration.topics.rename.quoted(name));
    let mut wanted = configs::desired(migration, source);
    if let Some(known) = &target.defaults.topic_configs {
        let left_out = configs::drop_unknown(migration, name, &mut wanted, known);
        plan.warnings.extend(left_out);
    }
    msk::restrict(migration, source, &mut wanted, plan);
    plan.blockers
        .extend(limits::check(migration, &wanted, source, target));
    if source.is_compacted() || source.partitions.values().any(|p| p.log_start > 0) {
        plan.warnings.push(Warning {
            kind: WarningKind::OffsetsWillDiffer,
            subject: subject.clone(),
            message: if source.is_compacted() {
                "compacted: target offsets will differ from source offsets (group offsets are translated exactly)".into()
            } else {
                "records before the log start are gone: target offsets will differ from source offsets (group offsets are translated exactly)".into()
            },
        });
    }
    let Some(existing) = target.topics.get(name) else {
        let replication_factor = msk::replication_factor(migration)
            .or(migration.topics.replication_factor.map(i32::from))
            .unwrap_or(source.replication_factor);
        if replication_factor as usize > target.brokers {
            plan.blockers.push(Blocker {
                kind: BlockerKind::ReplicationFactorTooHigh,
                subject,
                reason: format!(
                    "replication factor {replication_factor} is above the target's {} broker(s); set `topics.replication_factor`",
                    target.brokers
                ),
            });
            return;
        }
        plan.actions.push(Action::CreateTopic {
            topic: migration.topics.rename.target(name).into_owned(),
            partitions: source.partition_count(),
            replication_factor,
            configs: wanted,
        });
        return;
    };

    let (before, after) = (existing.partition_count(), source.partition_count());
    if before > after {
        plan.blockers.push(Blocker {
            kind: BlockerKind::TargetHasMorePartitions,
            subject: subject.clone(),
            reason: format!("the target topic has {before} partitions, the source {after}: records could not keep their partition"),
        });
    }
    let source_policy = source.config_value("cleanup.policy").unwrap_or("delete");
    let target_policy = existing.config_value("cleanup.policy").unwrap_or("delete");
    if source_policy != target_policy {
        plan.blockers.push(Blocker {
            kind: BlockerKind::CleanupPolicyMismatch,
            subject: subject.clone(),
            reason: format!("cleanup.policy is \"{target_policy}\" on the target but \"{source_policy}\" on the source"),
        });
    }
    // Records this migration did not write: any record in a partition it never wrote to, or
    // past its position beyond the one control record its last commit leaves.
    let written = target.replicated.get(name);
    let foreign: Vec<String> = existing
        .partitions
        .iter()
        .filter(|(p, part)| match written.and_then(|w| w.get(p)) {
            Some(next_target) => part.end > next_target + 1,
            None => part.end > part.log_start,
        })
        .map(|(p, part)| format!("{p} (end offset {})", part.end))
        .collect();
    if !foreign.is_empty() {
        plan.blockers.push(Blocker {
            kind: BlockerKind::TargetTopicHasForeignRecords,
            subject: subject.clone(),
            reason: format!(
                "the target topic holds records this migration did not write, in partition(s) {}",
                foreign.join(", ")
            ),
        });
    }
    if before < after {
        plan.actions.push(Action::CreatePartitions {
            topic: migration.topics.rename.target(name).into_owned(),
            before,
            after,
        });
    }
    let mut changes = configs::changes(migration, &wanted, existing, &["cleanup.policy"]);
    msk::retain_settable(migration, &mut changes);
    if !changes.is_empty() {
        plan.actions.push(Action::UpdateTopicConfig {
            topic: migration.topics.rename.target(name).into_owned(),
            changes,
        });
    }
}

fn diff_acls(
    migration: &Migration,
    source: &Inventory,
    target: &Inventory,
    selected: &[&Topic],
    plan: &mut Plan,
) {
    let Acls::Listed { bindings } = &source.acls else {
        if let Acls::Unavailable { reason } = &source.acls {
            plan.warnings.push(Warning {
                kind: WarningKind::AclNotExpressible,
                subject: "source ACLs".into(),
                message: format!(
                    "ACLs are not synced: they could not be listed on the source ({reason})"
                ),
            });
        }
        return;
    };
    let wanted = wanted_acls(migration, bindings, selected);
    if wanted.is_empty() {
        return;
    }
    if let Some(iam) = &migration.target().security.aws_iam {
        iam_instead_of_acls(iam, &wanted, plan);
        return;
    }
    if msk::iam_only(migration) {
        plan.warnings.push(Warning {
            kind: WarningKind::AclNotExpressible,
            subject: "target ACLs".into(),
            message: format!("{} ACL binding(s) are not created: MSK Serverless takes no Kafka ACLs (IAM access control only); add security {{ aws_iam {{ cluster_arn }} }} to the target to see them as IAM policies (`export iam-policy`)", wanted.len()),
        });
        return;
    }
    let existing: BTreeSet<&AclBinding> = match &target.acls {
        Acls::Listed { bindings } => bindings.iter().collect(),
        Acls::Unavailable { reason } => {
            plan.warnings.push(Warning {
                kind: WarningKind::AclNotExpressible,
                subject: "target ACLs".into(),
                message: format!("{} ACL binding(s) cannot be created: the target does not accept ACLs ({reason})", wanted.len()),
            });
            return;
        }
    };
    let mut seen = BTreeSet::new();
    for (binding, source_principal) in wanted {
        if existing.contains(&binding) || !seen.insert(binding.clone()) {
            continue;
        }
        plan.actions.push(Action::CreateAcl {
            binding,
            source_principal,
        });
    }
}

/// A target with IAM access control takes no ACLs: the plan shows the IAM policies that grant
/// the same (what `export iam-policy` writes) instead.
fn iam_instead_of_acls(
    iam: &crate::config::AwsIam,
    wanted: &[(AclBinding, Option<String>)],
    plan: &mut Plan,
) {
    let cluster = iam
        .cluster_arn
        .as_deref()
        .map(crate::config::MskCluster::parse);
    let Some(Ok(cluster)) = cluster else {
        plan.warnings.push(Warning {
            kind: WarningKind::AclNotExpressible,
            subject: "target ACLs".into(),
            message: format!(
                "{} ACL binding(s) are not created: the target uses IAM access control; set \
                 cluster_arn in its aws_iam block to see them as IAM policies (`export \
                 iam-policy` writes them)",
                wanted.len()
            ),
        });
        return;
    };
    let bindings: BTreeSet<AclBinding> = wanted.iter().map(|(b, _)| b.clone()).collect();
    let bindings: Vec<AclBinding> = bindings.into_iter().collect();
    plan.iam_policies = super::iam_policy::translate(&cluster, &bindings);
}

/// The source ACL bindings the migration carries over (after principal mapping), for the
/// topics it selects on the source.
pub fn migrated_acls(migration: &Migration, source: &Inventory) -> Result<Vec<AclBinding>, String> {
    let bindings = match &source.acls {
        Acls::Listed { bindings } => bindings,
        Acls::Unavailable { reason } => return Err(reason.clone()),
    };
    let selected: Vec<&Topic> = source
        .topics
        .values()
        .filter(|t| migration.topics.selects(&t.name))
        .collect();
    let unique: BTreeSet<AclBinding> = wanted_acls(migration, bindings, &selected)
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    Ok(unique.into_iter().collect())
}

fn wanted_acls(
    migration: &Migration,
    bindings: &[AclBinding],
    selected: &[&Topic],
) -> Vec<(AclBinding, Option<String>)> {
    bindings
        .iter()
        .filter(|b| acl_applies(migration, b, selected))
        .map(|b| map_principal(migration, &renamed_acl(migration, b)))
        .collect()
}

/// The binding on the target's names: a literal name renamed as the topic or group is, a
/// prefix with the rename's prefix in front, the wildcard as it is.
fn renamed_acl(migration: &Migration, binding: &AclBinding) -> AclBinding {
    let rename = match binding.resource_type {
        ResourceType::Topic => &migration.topics.rename,
        ResourceType::Group => &migration.consumer_groups.rename,
        _ => return binding.clone(),
    };
    let mut renamed = binding.clone();
    match binding.pattern_type {
        PatternType::Prefixed => renamed.name = format!("{}{}", rename.prefix, binding.name),
        _ if binding.name == "*" => {}
        _ => renamed.name = rename.target(&binding.name).into_owned(),
    }
    renamed
}

/// Blockers for names the target cannot keep apart or hold, and for an engine that cannot
/// rename; warnings for prefixed ACLs that miss a name renamed one by one.
fn check_renames(
    migration: &Migration,
    source: &Inventory,
    selected: &[&Topic],
    engine: Engine,
    plan: &mut Plan,
) {
    if !migration.renames() {
        return;
    }
    if engine == Engine::Connect {
        plan.blockers.push(Blocker {
            kind: BlockerKind::RenameConflict,
            subject: "rename".into(),
            reason: "the Connect engine (MirrorMaker 2 with the identity replication policy) keeps names as they are: rename topics and groups with the built-in engine".into(),
        });
    }
    let topics = &migration.topics.rename;
    let groups = &migration.consumer_groups.rename;
    let selected_groups = || {
        source
            .groups
            .keys()
            .filter(|g| migration.consumer_groups.selects(g))
            .map(String::as_str)
    };
    let named = |kind: &str, rename: &crate::config::Rename, name: &str| {
        let target = rename.target(name);
        (target != name).then(|| Renamed {
            kind: kind.into(),
            source: name.to_string(),
            target: target.into_owned(),
        })
    };
    plan.renamed = selected
        .iter()
        .filter_map(|t| named("topic", topics, &t.name))
        .chain(selected_groups().filter_map(|g| named("group", groups, g)))
        .collect();
    for (target, sources) in topics.collisions(selected.iter().map(|t| t.name.as_str())) {
        plan.blockers.push(Blocker {
            kind: BlockerKind::RenameConflict,
            subject: format!("topic \"{target}\""),
            reason: format!(
                "the source topics {} would all be {target} on the target",
                sources.join(", ")
            ),
        });
    }
    for t in selected {
        let target = topics.target(&t.name);
        if target.len() > 249 {
            plan.blockers.push(Blocker {
                kind: BlockerKind::RenameConflict,
                subject: format!("topic \"{}\"", t.name),
                reason: format!(
                    "renamed, it would be {} characters long on the target; Kafka allows 249",
                    target.len()
                ),
            });
        }
    }
    for (target, sources) in groups.collisions(selected_groups()) {
        plan.blockers.push(Blocker {
            kind: BlockerKind::RenameConflict,
            subject: format!("group \"{}\"", crate::quote::terminal(&target)),
            reason: format!(
                "the source groups {} would all be one group on the target",
                sources
                    .iter()
                    .map(|s| crate::quote::terminal(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    if let Acls::Listed { bindings } = &source.acls {
        let mut missed = BTreeSet::new();
        for b in bindings
            .iter()
            .filter(|b| b.pattern_type == PatternType::Prefixed)
        {
            let (rename, names): (_, Vec<&str>) = match b.resource_type {
                ResourceType::Topic => (topics, selected.iter().map(|t| t.name.as_str()).collect()),
                ResourceType::Group => (groups, source.groups.keys().map(String::as_str).collect()),
                _ => continue,
            };
            let target_prefix = format!("{}{}", rename.prefix, b.name);
            for name in names.into_iter().filter(|n| n.starts_with(&b.name)) {
                let target = rename.target(name);
                if !target.starts_with(&target_prefix) {
                    missed.insert((b.name.clone(), name.to_string(), target.into_owned()));
                }
            }
        }
        for (prefix, name, target) in missed {
            plan.warnings.push(Warning {
                kind: WarningKind::AclRenamed,
                subject: format!("ACL prefix \"{}\"", crate::quote::terminal(&prefix)),
                message: format!(
                    "it covers {} on the source, renamed {} on the target, which the renamed prefix does not cover: grant it there yourself",
                    crate::quote::terminal(&name),
                    crate::quote::terminal(&target)
                ),
            });
        }
    }
}

/// ACLs travel with what the migration moves: topic ACLs of selected topics (prefixed
/// patterns when they cover a selected topic), group ACLs of selected groups, and cluster and
/// transactional-id ACLs, which belong to the applications that move.
fn acl_applies(migration: &Migration, binding: &AclBinding, selected: &[&Topic]) -> bool {
    let covers = |name: &str| match binding.pattern_type {
        PatternType::Prefixed => name.starts_with(&binding.name),
        _ => binding.name == "*" || binding.name == name,
    };
    match binding.resource_type {
        ResourceType::Topic => selected.iter().any(|t| covers(&t.name)),
        ResourceType::Group => {
            binding.name == "*"
                || binding.pattern_type == PatternType::Prefixed
                || migration.consumer_groups.selects(&binding.name)
        }
        _ => true,
    }
}

fn map_principal(migration: &Migration, binding: &AclBinding) -> (AclBinding, Option<String>) {
    match migration.acls.principal_map.get(&binding.principal) {
        Some(mapped) if *mapped != binding.principal => {
            let mut renamed = binding.clone();
            renamed.principal = mapped.clone();
            (renamed, Some(binding.principal.clone()))
        }
        _ => (binding.clone(), None),
    }
}

/// A warning for each of the plan's groups marked cut over (the plan leaves them alone) and
/// each group rewound on the source (the sync moves its target offsets back).
pub fn warn_group_states(plan: &mut Plan) {
    for g in &plan.group_offsets {
        if let Some(why) = &g.cut_over {
            plan.warnings.push(Warning {
                kind: WarningKind::GroupCutOver,
                subject: format!("group \"{}\"", crate::quote::terminal(&g.group)),
                message: format!("the group has cut over ({why}): its offsets are not synced"),
            });
            continue;
        }
        let back: Vec<String> = g
            .partitions
            .iter()
            .filter_map(|p| match (p.target, p.target_current) {
                (OffsetTarget::Translated { offset }, Some(current)) if current > offset => {
                    Some(format!(
                        "{} partition {}: {current} → {offset}",
                        p.topic, p.partition
                    ))
                }
                _ => None,
            })
            .collect();
        if !back.is_empty() {
            plan.warnings.push(Warning {
                kind: WarningKind::GroupRewound,
                subject: format!("group \"{}\"", crate::quote::terminal(&g.group)),
                message: format!(
                    "the group was rewound on the source: its target offsets move back to the new translation ({})",
                    back.join(", ")
                ),
            });
        }
    }
}

fn diff_groups(
    migration: &Migration,
    source: &Inventory,
    target: &Inventory,
    selected: &[&Topic],
    plan: &mut Plan,
) {
    let selected: BTreeSet<&str> = selected.iter().map(|t| t.name.as_str()).collect();
    for (id, group) in &source.groups {
        if !migration.consumer_groups.selects(id) {
            continue;
        }
        let target_group = target.groups.get(id);
        if target_group.is_some_and(|g| g.is_active()) {
            plan.warnings.push(Warning {
                kind: WarningKind::GroupActiveOnTarget,
                subject: format!("group \"{id}\""),
                message: "the group has members on the target: it has cut over and its offsets are not synced".into(),
            });
            continue;
        }
        let mut partitions = Vec::new();
        for (topic, offsets) in group
            .offsets
            .iter()
            .filter(|(t, _)| selected.contains(t.as_str()))
        {
            for (partition, offset) in offsets {
                partitions.push(GroupPartitionOffset {
                    topic: topic.clone(),
                    partition: *partition,
                    source_offset: *offset,
                    target_current: target_group
                        .and_then(|g| g.offsets.get(topic)?.get(partition).copied()),
                    target: OffsetTarget::PendingReplication,
                });
            }
        }
        if partitions.is_empty() {
            continue;
        }
        if group.is_active() {
            plan.warnings.push(Warning {
                kind: WarningKind::GroupActiveOnSource,
                subject: format!("group \"{id}\""),
                message: format!("the group has {} active member(s) on the source: its offsets keep moving until they stop", group.members),
            });
        }
        plan.group_offsets.push(GroupOffsets {
            group: id.clone(),
            partitions,
            cut_over: None,
        });
    }
}
