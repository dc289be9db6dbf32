//! Groups translated back, for failback: what every selected group committed on the target,
//! translated exactly to the source and committed there while the source group has no
//! members. An offset at or past the cutover point goes through the failback's (reverse)
//! progress; one before it through the forward progress read the other way (both logs hold
//! the same records in the same order).

use std::collections::BTreeMap;

use crate::cluster::{factory, ClusterClient, ClusterError, Inventory, Role};
use crate::config::{names, Migration, Naming, Rename};
use crate::plan::{set_translated, GroupOffsets, GroupPartitionOffset, OffsetTarget};
use crate::state::{CutoverPoint, Position, Progress};

use super::{sync_groups, translate_between};

/// Both clusters as failback translates back from them.
pub struct Sides<'a> {
    pub source: &'a ClusterClient,
    pub source_inventory: &'a Inventory,
    pub target_inventory: &'a Inventory,
    /// The built-in engine's forward progress, when it replicated the migration.
    pub forward: Option<&'a Progress>,
}

/// The exact source offsets of what every selected group without members on the source
/// committed on the target (groups with members there are named in the lines), through the
/// forward progress before the cutover `point` and the failback's `reverse` progress from it.
pub async fn translate_back(
    migration: &Migration,
    sides: &Sides<'_>,
    point: &CutoverPoint,
    reverse: Progress,
) -> Result<(Vec<GroupOffsets>, Vec<String>), ClusterError> {
    let forward = sides.forward.cloned().unwrap_or_default();
    let mut lines = Vec::new();
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for (id, on_target) in &sides.target_inventory.groups {
        let on_source = sides.source_inventory.groups.get(id);
        if on_source.is_some_and(|g| g.is_active()) {
            lines.push(format!(
                "group \"{id}\": members on the source; its offsets there are left alone"
            ));
            continue;
        }
        let current = |topic: &str, partition: i32| {
            on_source.and_then(|g| g.offsets.get(topic)?.get(&partition).copied())
        };
        let (mut early, mut late) = (Vec::new(), Vec::new());
        for (topic, offsets) in &on_target.offsets {
            for (partition, offset) in offsets {
                let Some(at) = point.get(topic, *partition) else {
                    continue;
                };
                let wanted = GroupPartitionOffset {
                    topic: topic.clone(),
                    partition: *partition,
                    source_offset: *offset,
                    target_current: current(topic, *partition),
                    target: OffsetTarget::PendingReplication,
                };
                if *offset >= at.target_end {
                    late.push(wanted);
                } else {
                    early.push(wanted);
                }
            }
        }
        for (parts, into) in [(early, &mut before), (late, &mut after)] {
            if !parts.is_empty() {
                into.push(GroupOffsets {
                    group: id.clone(),
                    partitions: parts,
                    cut_over: None,
                });
            }
        }
    }
    let props = |role| factory::properties(migration, role);
    let clusters = (props(Role::Target), props(Role::Source));
    let name = names::failback(&migration.name);
    let mut translated = Vec::new();
    for (mut groups, progress) in [(before, inverted(&forward)), (after, reverse)] {
        if groups.is_empty() {
            continue;
        }
        let known = Default::default();
        // From the target's names to the source's.
        let renames = (&migration.topics.rename, &Rename::default());
        let exact = translate_between(
            &name,
            &clusters,
            renames,
            &groups,
            &progress,
            sides.source,
            known,
        )
        .await?;
        set_translated(&mut groups, &exact);
        translated.extend(groups);
    }
    Ok((merged(translated), lines))
}

/// Commits on the source, for every selected group without members there, the exact
/// translation of the offsets it committed on the target (see [`translate_back`]): a line
/// per group.
pub async fn sync_back(
    migration: &Migration,
    sides: &Sides<'_>,
    point: &CutoverPoint,
    reverse: Progress,
) -> Result<Vec<String>, ClusterError> {
    let (translated, mut lines) = translate_back(migration, sides, point, reverse).await?;
    commit(sides.source, translated, &mut lines).await?;
    Ok(lines)
}

/// One entry per group (its partitions may have come from two translations).
fn merged(translated: Vec<GroupOffsets>) -> Vec<GroupOffsets> {
    let mut by_group: BTreeMap<String, GroupOffsets> = BTreeMap::new();
    for g in translated {
        match by_group.get_mut(&g.group) {
            Some(all) => all.partitions.extend(g.partitions),
            None => {
                by_group.insert(g.group.clone(), g);
            }
        }
    }
    by_group.into_values().collect()
}

/// Commits the translated offsets, one commit per group, and says what it did.
async fn commit(
    source: &ClusterClient,
    groups: Vec<GroupOffsets>,
    lines: &mut Vec<String>,
) -> Result<(), ClusterError> {
    for g in sync_groups(source, &Naming::default(), &groups).await? {
        lines.push(format!(
            "group \"{}\": {} offset(s) committed on the source{}",
            g.group,
            g.committed,
            if g.pending > 0 {
                format!(", {} not replicated back yet", g.pending)
            } else {
                String::new()
            }
        ));
    }
    Ok(())
}

/// The forward progress read the other way: target offsets aligned to source offsets.
fn inverted(forward: &Progress) -> Progress {
    let swap = |p: &Position| Position {
        next_source: p.next_target,
        next_target: p.next_source,
    };
    let mut out = Progress::default();
    for (key, p) in &forward.partitions {
        let mut q = p.clone();
        q.position = p.position.as_ref().map(swap);
        q.index = p.index.iter().map(swap).collect();
        q.index.sort();
        out.partitions.insert(key.clone(), q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forward_progress_inverted_aligns_target_offsets_to_source_offsets() {
        let mut forward = Progress::default();
        let p = forward.partitions.entry(("orders".into(), 0)).or_default();
        p.position = Some(Position {
            next_source: 100,
            next_target: 104,
        });
        p.index = vec![Position {
            next_source: 0,
            next_target: 0,
        }];
        let back = inverted(&forward);
        let q = back.get("orders", 0).unwrap();
        assert_eq!(
            q.position,
            Some(Position {
                next_source: 104,
                next_target: 100
            })
        );
        assert_eq!(q.anchor(50).unwrap().next_source, 0);
    }
}
