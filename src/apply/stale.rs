//! Is a saved plan still the plan? A saved plan may be applied when the source still matches
//! it and every change the clusters still need is one the plan contains — so an apply that
//! was interrupted halfway can be run again and finishes the rest.

use std::collections::BTreeSet;

use crate::plan::{Action, Plan};

/// Why a saved plan was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staleness {
    pub reasons: Vec<String>,
    /// Whether the migration file (its name or settings) changed since the plan was made.
    pub file_changed: bool,
    /// Whether what the plan needs on the clusters changed since.
    pub clusters_changed: bool,
}

impl Staleness {
    /// What changed, for the error after the reasons: the migration file, the clusters, or
    /// both.
    pub fn what_changed(&self) -> &'static str {
        match (self.file_changed, self.clusters_changed) {
            (true, true) => "the migration file and the clusters changed",
            (true, false) => "the migration file changed",
            _ => "the clusters changed",
        }
    }
}

/// One indivisible change, for comparing plans: a topic creation, a partition count, one
/// config key's new value, one ACL, one client quota.
fn atoms(plan: &Plan) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for action in &plan.actions {
        match action {
            Action::CreateTopic {
                topic,
                partitions,
                replication_factor,
                configs,
            } => {
                out.insert(format!("create topic \"{topic}\" with {partitions} partitions, replication factor {replication_factor}, configs {configs:?}"));
            }
            Action::CreatePartitions { topic, after, .. } => {
                out.insert(format!("grow topic \"{topic}\" to {after} partitions"));
            }
            Action::UpdateTopicConfig { topic, changes } => {
                for c in changes {
                    out.insert(match &c.after {
                        Some(v) => format!("set {} = \"{v}\" on topic \"{topic}\"", c.key),
                        None => format!("remove {} from topic \"{topic}\"", c.key),
                    });
                }
            }
            Action::CreateAcl { binding, .. } => {
                out.insert(format!("create acl {binding}"));
            }
            Action::SetClientQuotas { entity, changes } => {
                for c in changes {
                    out.insert(match c.after {
                        Some(v) => format!("set quota {} = {v} of {entity}", c.key),
                        None => format!("remove quota {} of {entity}", c.key),
                    });
                }
            }
        }
    }
    out
}

/// Compares a saved plan with one computed now from the live clusters.
pub fn check(saved: &Plan, fresh: &Plan) -> Result<(), Staleness> {
    let mut reasons = Vec::new();
    if saved.migration != fresh.migration {
        reasons.push(format!(
            "the plan is for migration \"{}\", the migration file is \"{}\"",
            saved.migration, fresh.migration
        ));
    }
    if !saved.migration_fingerprint.is_empty()
        && saved.migration_fingerprint != fresh.migration_fingerprint
    {
        reasons.push("the migration file's settings changed since the plan was made".into());
    }
    if saved.source_fingerprint != fresh.source_fingerprint {
        reasons.push(
            "the source's topics, partitions, configs or ACLs changed since the plan was made"
                .into(),
        );
    }
    let (planned, needed) = (atoms(saved), atoms(fresh));
    for atom in needed.difference(&planned) {
        reasons.push(format!("now needed but not in the plan: {atom}"));
    }
    // The other way: the target may differ from when the plan was made only by the plan's
    // own changes (an apply of it was interrupted). A target that changed while every
    // planned change is still needed was changed by something else.
    if saved.target_fingerprint != fresh.target_fingerprint && planned == needed {
        reasons.push(
            "the target's topics, partitions, configs or ACLs changed since the plan was made, and not by applying it"
                .into(),
        );
    }
    let file_changed = saved.migration != fresh.migration
        || (!saved.migration_fingerprint.is_empty()
            && saved.migration_fingerprint != fresh.migration_fingerprint);
    let clusters_changed = saved.source_fingerprint != fresh.source_fingerprint
        || saved.target_fingerprint != fresh.target_fingerprint;
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(Staleness {
            reasons,
            file_changed,
            // Only planned changes now needed and no cluster that changed: the file asks
            // for them.
            clusters_changed: clusters_changed || !file_changed,
        })
    }
}
