//! The migration's identity: which source and target clusters (by Kafka cluster id) it
//! replicates between, as one record in its progress topic. Written the first time a run
//! prepares (a migration replicated before the record existed gets it at its next run) and
//! kept for every later cycle, so that a migration file pointed at another cluster is refused
//! instead of resuming at offsets that belong to another log.
//!
//! This module holds the record, the pure comparison of what was recorded with the clusters
//! as they are ([`compare`]) and what a refusal says; who asks, and when, is its callers'.

use serde::{Deserialize, Serialize};

use super::progress::ProgressKey;
use crate::cluster::Role;
use crate::config::Rename;

/// The cluster ids a migration replicates between. A cluster that reports no id (a broker
/// too old to tell it) is `None`, and is not compared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The migration's exact name, as writers records keep it.
    pub migration: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_cluster_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_cluster_id: Option<String>,
    /// How the target names the source's topics and groups: where every record and offset
    /// of the migration went (none recorded: as they are).
    #[serde(default, skip_serializing_if = "Rename::is_identity")]
    pub topic_rename: Rename,
    #[serde(default, skip_serializing_if = "Rename::is_identity")]
    pub group_rename: Rename,
}

impl Identity {
    /// The key and value of the record keeping this identity.
    pub fn record(&self) -> (Vec<u8>, Vec<u8>) {
        (
            ProgressKey::Identity.encode(),
            serde_json::to_vec(self).unwrap_or_default(),
        )
    }

    /// The identity a record's value holds (`None`: a tombstone or an unreadable value).
    pub fn decode(value: Option<&[u8]>) -> Option<Identity> {
        value.and_then(|v| serde_json::from_slice(v).ok())
    }

    /// The cluster id of the `role` side.
    pub fn cluster_id(&self, role: Role) -> Option<&str> {
        match role {
            Role::Source => self.source_cluster_id.as_deref(),
            Role::Target => self.target_cluster_id.as_deref(),
        }
    }
}

/// A cluster that is not the one the migration recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub migration: String,
    pub role: Role,
    /// The cluster id recorded when the migration first ran.
    pub recorded: String,
    /// The cluster id the migration file's `role` cluster reports now.
    pub now: String,
}

impl Mismatch {
    /// What is wrong, naming both cluster ids.
    pub fn cause(&self) -> String {
        format!(
            "migration \"{}\" was recorded with {} cluster id \"{}\", but the {} cluster the migration file points at now has id \"{}\"",
            self.migration, self.role, self.recorded, self.role, self.now
        )
    }

    /// What to do about it.
    pub fn help(&self) -> String {
        match self.role {
            Role::Source => format!(
                "this migration replicated from another source cluster: point cluster \"source\" back at the cluster with id \"{}\", or, to migrate the cluster with id \"{}\" as well, give its migration file another `name` (several migrations may share one target, each under its own name)",
                self.recorded, self.now
            ),
            Role::Target => format!(
                "this migration's state is on the target it recorded (cluster id \"{}\") and this cluster (id \"{}\") holds a progress topic of the same name: point cluster \"target\" back at the recorded cluster, or give the migration another `name` to start afresh on this one",
                self.recorded, self.now
            ),
        }
    }
}

/// Compares what `recorded` holds with the cluster ids reported now (`source`, `target`): the
/// first side whose recorded id differs. A side with no recorded id, or that reports none now,
/// is not compared.
pub fn compare(
    recorded: &Identity,
    source: Option<&str>,
    target: Option<&str>,
) -> Result<(), Mismatch> {
    for (role, now) in [(Role::Source, source), (Role::Target, target)] {
        if let (Some(recorded_id), Some(now)) = (recorded.cluster_id(role), now) {
            if recorded_id != now {
                return Err(Mismatch {
                    migration: recorded.migration.clone(),
                    role,
                    recorded: recorded_id.to_string(),
                    now: now.to_string(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Progress;

    fn identity(source: &str, target: &str) -> Identity {
        Identity {
            migration: "orders".into(),
            source_cluster_id: Some(source.into()),
            target_cluster_id: Some(target.into()),
            ..Identity::default()
        }
    }

    #[test]
    fn the_identity_record_folds_into_the_progress_and_is_kept() {
        let mut progress = Progress::default();
        assert_eq!(progress.identity, None);
        let (key, value) = identity("src-A", "tgt-B").record();
        progress.fold(3, Some(&key), Some(&value));
        assert_eq!(progress.identity, Some(identity("src-A", "tgt-B")));
        // Other records leave it as it is.
        let (key, value) = crate::state::writers_record("orders", 2);
        progress.fold(4, Some(&key), Some(&value));
        assert_eq!(progress.identity, Some(identity("src-A", "tgt-B")));
        // A record from before cluster ids were kept reads as none.
        let old = Identity::decode(Some(br#"{"migration":"orders"}"#)).unwrap();
        assert_eq!(old.cluster_id(Role::Source), None);
    }

    #[test]
    fn another_source_or_target_is_a_mismatch_naming_both_ids() {
        let recorded = identity("src-A", "tgt-B");
        assert_eq!(compare(&recorded, Some("src-A"), Some("tgt-B")), Ok(()));
        let e = compare(&recorded, Some("src-C"), Some("tgt-B")).unwrap_err();
        assert_eq!(e.role, Role::Source);
        assert!(e.cause().contains("\"src-A\"") && e.cause().contains("\"src-C\""));
        assert!(e.help().contains("another `name`"), "{}", e.help());
        let e = compare(&recorded, Some("src-A"), Some("tgt-D")).unwrap_err();
        assert_eq!(e.role, Role::Target);
        assert!(e.cause().contains("\"tgt-B\"") && e.cause().contains("\"tgt-D\""));
        // What a side did not record, or does not report now, is not compared.
        let partial = Identity {
            target_cluster_id: None,
            ..identity("src-A", "")
        };
        assert_eq!(compare(&partial, Some("src-A"), Some("tgt-D")), Ok(()));
        assert_eq!(compare(&recorded, None, None), Ok(()));
    }
}
