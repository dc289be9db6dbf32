//! Applications whose state lives in the source's topics, recognised as units: a Kafka
//! Streams application (its `<application.id>-…-changelog` and `-repartition` topics and the
//! group of its application.id), a Kafka Connect cluster (its config, offset and status
//! topics, found by their records' keys, and its workers' group), a schema registry's storage
//! (`_schemas`, or any topic whose keys are the registry's). Pure: recognised from what the
//! survey read (`crate::cluster::residents::Residents`) and the migration's selection.
//!
//! A unit moves when the migration selects one of its topics, or its group with that group's
//! work: a Streams application's group with offsets on a selected topic (or named by the
//! file's own group patterns), a Connect cluster's group named by them. A unit that moves
//! takes its other topics along ([`Carriage::Added`]): the plan creates and replicates them.
//! A topic the file excludes stays behind ([`Carriage::Excluded`]), and the plan warns, naming
//! it and what that does on the target.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::cluster::inventory::Inventory;
use crate::cluster::residents::Resident;
pub use crate::cluster::residents::{TopicRole, UnitKind};
use crate::config::Migration;

use super::model::{Warning, WarningKind};

/// One application found on the source, with what of it the migration carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Unit {
    pub kind: UnitKind,
    /// The Streams application.id, the Connect workers' group (or config topic when no group
    /// was found), or the registry's topic.
    pub name: String,
    /// The unit's consumer group: a Streams application's (its application.id), a Connect
    /// cluster's workers'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Whether the migration carries the group (none for a registry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_carried: Option<bool>,
    pub topics: Vec<UnitTopic>,
    /// Whether the unit moves with the migration (whole or in part).
    pub moves: bool,
}

/// One topic of a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UnitTopic {
    pub topic: String,
    pub role: TopicRole,
    pub carriage: Carriage,
}

/// Whether a unit's topic moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Carriage {
    /// The migration file selects it.
    Selected,
    /// The file does not select it, but its unit moves: the plan carries it.
    Added,
    /// Its unit moves but the file excludes it: left behind.
    Excluded,
    /// Its unit does not move.
    Stays,
}

impl Carriage {
    pub fn moves(self) -> bool {
        matches!(self, Carriage::Selected | Carriage::Added)
    }
}

/// The units on `source` (none when the survey did not read its residents), with what of
/// each moves.
pub fn recognise(migration: &Migration, source: &Inventory) -> Vec<Unit> {
    let Some(residents) = &source.residents else {
        return Vec::new();
    };
    crate::cluster::residents::recognise(residents)
        .into_iter()
        .map(|r| {
            let moves = match (r.kind, &r.group) {
                // Its progress moves: a group with offsets on a selected topic, or named.
                (UnitKind::StreamsApplication, Some(g)) => {
                    let reads_selected = source.groups.get(g).is_some_and(|group| {
                        group.offsets.keys().any(|t| migration.topics.selects(t))
                    });
                    migration.consumer_groups.selects(g)
                        && (reads_selected || named_group(migration, g))
                }
                (UnitKind::ConnectCluster, Some(g)) => named_group(migration, g),
                _ => false,
            };
            unit(migration, r, moves)
        })
        .collect()
}

/// The topics the plan carries because their unit moves.
pub fn added(units: &[Unit]) -> BTreeSet<String> {
    units
        .iter()
        .flat_map(|u| &u.topics)
        .filter(|t| t.carriage == Carriage::Added)
        .map(|t| t.topic.clone())
        .collect()
}

/// The units a plan shows: those that move, and those a warning is about; units the migration
/// does not touch are left out.
pub fn concerned(units: Vec<Unit>, warnings: &[Warning]) -> Vec<Unit> {
    units
        .into_iter()
        .filter(|u| u.moves || warnings.iter().any(|w| w.subject == subject(u)))
        .collect()
}

/// How warnings name `unit`: `streams application "wc"`.
fn subject(unit: &Unit) -> String {
    format!(
        "{} \"{}\"",
        unit.kind.describe(),
        crate::quote::terminal(&unit.name)
    )
}

/// A warning for each unit that moves in part, naming what stays behind and what that does;
/// and for each registry that stays while selected topics hold records with schema ids.
pub fn warnings(units: &[Unit], source: &Inventory, migration: &Migration) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for unit in units {
        let subject = subject(unit);
        if !unit.moves {
            if unit.kind == UnitKind::SchemaRegistry {
                let framed: Vec<&String> = source
                    .residents
                    .iter()
                    .flat_map(|r| &r.framed)
                    .filter(|t| migration.topics.selects(t))
                    .collect();
                if !framed.is_empty() {
                    warnings.push(Warning {
                        kind: WarningKind::UnitInPart,
                        subject,
                        message: format!(
                            "the registry's storage {} stays on the source while {} carry records framed with schema ids: {}; select it to carry it",
                            crate::quote::terminal(&unit.name),
                            framed.iter().map(|t| crate::quote::terminal(t)).collect::<Vec<_>>().join(", "),
                            TopicRole::Schemas.consequence()
                        ),
                    });
                }
            }
            continue;
        }
        let mut behind: Vec<String> = unit
            .topics
            .iter()
            .filter(|t| !t.carriage.moves())
            .map(|t| {
                format!(
                    "{} ({}: {})",
                    crate::quote::terminal(&t.topic),
                    t.role.describe(),
                    t.role.consequence()
                )
            })
            .collect();
        if let (Some(group), Some(false)) = (&unit.group, unit.group_carried) {
            let what = match unit.kind {
                UnitKind::StreamsApplication => {
                    "its offsets are not carried: the application starts over from its auto.offset.reset position"
                }
                _ => "the workers on the target form a new group",
            };
            behind.push(format!("group {} ({what})", crate::quote::terminal(group)));
        }
        if !behind.is_empty() {
            warnings.push(Warning {
                kind: WarningKind::UnitInPart,
                subject,
                message: format!("carried in part; left behind: {}", behind.join("; ")),
            });
        }
    }
    warnings
}

/// Whether the file's group patterns name `group` (an include other than "every group").
fn named_group(migration: &Migration, group: &str) -> bool {
    let groups = &migration.consumer_groups;
    groups.selects(group) && !groups.include.iter().any(|p| p.as_str() == ".*")
}

/// How a unit's topic moves, when the unit does (`moves`) or not.
fn carriage(migration: &Migration, topic: &str, moves: bool) -> Carriage {
    if migration.topics.selects(topic) {
        Carriage::Selected
    } else if !moves {
        Carriage::Stays
    } else if migration.topics.exclude.is_match(topic) {
        Carriage::Excluded
    } else {
        Carriage::Added
    }
}

/// `resident` as a unit of `migration`: it moves when `moves` says so or one of its topics
/// is selected.
fn unit(migration: &Migration, resident: Resident, moves: bool) -> Unit {
    let Resident {
        kind,
        name,
        group,
        topics,
    } = resident;
    let moves = moves || topics.iter().any(|(t, _)| migration.topics.selects(t));
    Unit {
        kind,
        name,
        group_carried: group
            .as_ref()
            .map(|g| moves && migration.consumer_groups.selects(g)),
        group,
        topics: topics
            .into_iter()
            .map(|(topic, role)| UnitTopic {
                carriage: carriage(migration, &topic, moves),
                topic,
                role,
            })
            .collect(),
        moves,
    }
}

#[cfg(test)]
mod tests;
