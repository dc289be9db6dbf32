//! Where each selected consumer group stands on the target: in sync, behind, pending
//! replication, or cut over. Pure: computed from the plan's group offsets (translated by
//! [`set_translated`] from what the survey found, marked cut over by [`mark_cut_over`]) and
//! both clusters' inventories; `plan`, `status` and `verify` show it and the sync skips groups
//! that have cut over.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cluster::Inventory;
use crate::state::{Synced, SyncedOffset};

use super::{GroupOffsets, GroupPartitionOffset, OffsetTarget};

/// The state of one group's offsets on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupState {
    /// Every partition's target offset is the exact translation of the source's.
    InSync,
    /// Some partitions translate, but the target has not been committed there yet.
    Behind,
    /// Records below some source offsets are not replicated yet.
    PendingReplication,
    /// The source group's offsets moved back (reset to reprocess): some translations are below
    /// what the target holds, and the sync moves the target back to them.
    Rewound,
    /// Consumers of the group run on the target (members there, or offsets consumed past the
    /// translation): the sync leaves the group alone.
    CutOver,
}

impl GroupState {
    pub fn label(self) -> &'static str {
        match self {
            GroupState::InSync => "in sync",
            GroupState::Behind => "behind",
            GroupState::PendingReplication => "pending replication",
            GroupState::Rewound => "rewound",
            GroupState::CutOver => "cut over",
        }
    }
}

/// One group's state, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct GroupStatus {
    pub group: String,
    pub state: GroupState,
    /// Partitions the group committed on the source (selected topics only).
    pub partitions: usize,
    /// Active members of the group on the target.
    pub members_on_target: usize,
    /// Why the group is in this state, naming a partition where it matters.
    pub detail: String,
}

/// Marks the translated `groups` that have cut over although they have no members on the
/// target: those in `recorded` (group → why, from the migration's progress: an earlier
/// `apply` saw them cut over) and those whose target offset moved forward since the sync last
/// committed it (`synced`, from the progress), which only the group's own consumers do. A
/// target offset the sync never committed proves nothing: it is compared with the
/// translation like any other (see [`GroupState::Rewound`]).
pub fn mark_cut_over(
    groups: &mut [GroupOffsets],
    recorded: &BTreeMap<String, String>,
    synced: &Synced,
) {
    for g in groups {
        g.cut_over = recorded
            .get(&g.group)
            .map(|why| format!("recorded as cut over by an earlier apply ({why})"))
            .or_else(|| consumed_on_target(g, synced.get(&g.group)?));
    }
}

/// Why a group counts as cut over although it has no members on the target: a partition's
/// target offset is past where the sync left it, so the group's consumers committed there.
fn consumed_on_target(
    group: &GroupOffsets,
    synced: &BTreeMap<(String, i32), SyncedOffset>,
) -> Option<String> {
    group.partitions.iter().find_map(|p| {
        let current = p.target_current?;
        let left = synced.get(&(p.topic.clone(), p.partition))?;
        // Forward only: consumers move an offset forward; one set back on the target is a
        // wrong offset, which the sync corrects and `verify` fails until then.
        (!left.left(current) && current > left.offset).then(|| {
            format!(
                "{} partition {}: committed {current} on the target since this migration committed {} there: consumed on the target",
                p.topic, p.partition, left.offset
            )
        })
    })
}

/// A partition whose translation is below what the target holds, for a group that has not
/// cut over: the source group was rewound.
fn rewound(group: &GroupOffsets) -> Option<String> {
    group.partitions.iter().find_map(|p| match (p.target, p.target_current) {
        (OffsetTarget::Translated { offset }, Some(current)) if current > offset => Some(format!(
            "{} partition {}: source offset {} translates to {offset}, below {current} on the target: the group was rewound on the source and is moved back",
            p.topic, p.partition, p.source_offset
        )),
        _ => None,
    })
}

/// The state of every selected group: those the plan syncs and those it leaves out because
/// they have members on the target. `source` and `target` hold the selected groups only.
pub fn group_states(
    groups: &[GroupOffsets],
    source: &Inventory,
    target: &Inventory,
) -> Vec<GroupStatus> {
    let mut out: Vec<GroupStatus> = groups.iter().map(state_of).collect();
    for (id, there) in &target.groups {
        let on_source = source.groups.get(id).is_some_and(|g| !g.offsets.is_empty());
        if there.is_active() && on_source && !out.iter().any(|s| s.group == *id) {
            out.push(GroupStatus {
                group: id.clone(),
                state: GroupState::CutOver,
                partitions: source.groups[id].offsets.values().map(|p| p.len()).sum(),
                members_on_target: there.members,
                detail: format!("{} member(s) on the target", there.members),
            });
        }
    }
    out.sort_by(|a, b| a.group.cmp(&b.group));
    out
}

fn state_of(group: &GroupOffsets) -> GroupStatus {
    let count = |f: &dyn Fn(&GroupPartitionOffset) -> bool| {
        group.partitions.iter().filter(|p| f(p)).count()
    };
    let pending = count(&|p| p.target == OffsetTarget::PendingReplication);
    let behind = count(&|p| p.to_commit().is_some());
    let (state, detail) = if let Some(why) = &group.cut_over {
        (GroupState::CutOver, why.clone())
    } else if let Some(why) = rewound(group) {
        (GroupState::Rewound, why)
    } else if pending > 0 {
        (
            GroupState::PendingReplication,
            format!("{pending} partition(s) wait for replication"),
        )
    } else if behind > 0 {
        (
            GroupState::Behind,
            format!("{behind} partition(s) not yet committed on the target"),
        )
    } else {
        (
            GroupState::InSync,
            "target offsets are the exact translation".to_string(),
        )
    };
    GroupStatus {
        group: group.group.clone(),
        state,
        partitions: group.partitions.len(),
        members_on_target: 0,
        detail,
    }
}

/// Exact target offsets of group partitions, by topic, partition and source offset.
pub type Translated = BTreeMap<(String, i32, i64), i64>;

/// Sets the target offset of every partition of `groups` that `translated` holds.
pub fn set_translated(groups: &mut [GroupOffsets], translated: &Translated) {
    for g in groups {
        for p in &mut g.partitions {
            let key = (p.topic.clone(), p.partition, p.source_offset);
            if let Some(offset) = translated.get(&key) {
                p.target = OffsetTarget::Translated { offset: *offset };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::inventory::Group;
    use crate::cluster::Role;
    use crate::testing::inventory;

    fn group(name: &str, parts: &[(i64, Option<i64>, OffsetTarget)]) -> GroupOffsets {
        GroupOffsets {
            group: name.to_string(),
            partitions: parts
                .iter()
                .enumerate()
                .map(|(i, (s, current, target))| GroupPartitionOffset {
                    topic: "orders".into(),
                    partition: i as i32,
                    source_offset: *s,
                    target_current: *current,
                    target: *target,
                })
                .collect(),
            cut_over: None,
        }
    }

    const fn at(offset: i64) -> OffsetTarget {
        OffsetTarget::Translated { offset }
    }

    #[test]
    fn each_state_follows_from_the_offsets() {
        let mut groups = [
            group("a-in-sync", &[(5, Some(7), at(7)), (0, Some(0), at(0))]),
            group("b-behind", &[(5, Some(3), at(7)), (9, None, at(11))]),
            group(
                "c-pending",
                &[
                    (5, Some(7), at(7)),
                    (90, None, OffsetTarget::PendingReplication),
                ],
            ),
            group("d-consumed", &[(5, Some(12), at(7)), (9, None, at(11))]),
            group("f-recorded", &[(5, Some(7), at(7))]),
            // Past the translation where the sync left it: rewound on the source.
            group("g-rewound", &[(5, Some(12), at(7))]),
            // Past the translation, never committed by the sync: rewound as well, not
            // taken for consumers on the target.
            group("h-unknown", &[(5, Some(12), at(7))]),
            // Set back on the target below where the sync left it: a wrong offset to correct,
            // not consumers.
            group("i-set-back", &[(5, Some(3), at(7))]),
        ];
        let recorded = [(
            "f-recorded".to_string(),
            "1 member(s) on the target".to_string(),
        )];
        let left = |offset| {
            [(
                ("orders".to_string(), 0),
                SyncedOffset {
                    topic: "orders".into(),
                    partition: 0,
                    offset,
                    previous: None,
                },
            )]
            .into()
        };
        // d-consumed: the sync committed 7, the target now holds 12 — its consumers moved it.
        let synced = [
            ("d-consumed".to_string(), left(7)),
            ("g-rewound".to_string(), left(12)),
            ("i-set-back".to_string(), left(7)),
        ]
        .into();
        mark_cut_over(&mut groups, &recorded.into(), &synced);
        let offsets = [("orders".to_string(), [(0, 4)].into())].into();
        let source = inventory(
            Role::Source,
            vec![],
            vec![],
            vec![(
                "e-active",
                Group {
                    state: "Empty".into(),
                    members: 0,
                    offsets,
                },
            )],
        );
        let target = inventory(
            Role::Target,
            vec![],
            vec![],
            vec![(
                "e-active",
                Group {
                    state: "Stable".into(),
                    members: 2,
                    offsets: Default::default(),
                },
            )],
        );
        let states = group_states(&groups, &source, &target);
        assert_eq!(
            states[5].detail,
            "recorded as cut over by an earlier apply (1 member(s) on the target)"
        );
        let states: Vec<(String, GroupState)> =
            states.into_iter().map(|s| (s.group, s.state)).collect();
        assert_eq!(
            states,
            [
                ("a-in-sync".to_string(), GroupState::InSync),
                ("b-behind".to_string(), GroupState::Behind),
                ("c-pending".to_string(), GroupState::PendingReplication),
                ("d-consumed".to_string(), GroupState::CutOver),
                ("e-active".to_string(), GroupState::CutOver),
                ("f-recorded".to_string(), GroupState::CutOver),
                ("g-rewound".to_string(), GroupState::Rewound),
                ("h-unknown".to_string(), GroupState::Rewound),
                ("i-set-back".to_string(), GroupState::Behind),
            ]
        );
    }
}
