//! The plan as a value: a closed set of actions with before/after, blockers and warnings.
//! The JSON form of this structure is the public plan format (`format_version`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cluster::native::AclBinding;
use crate::cluster::quotas::QuotaEntity;

/// Version of the JSON plan format. Bump the major part on incompatible changes.
pub const FORMAT_VERSION: &str = "1.3";

/// Everything a migration will do to the target, and what stands in its way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Plan {
    pub format_version: String,
    /// The migration's `name`.
    pub migration: String,
    /// Fingerprints of the inventories this plan was computed from; `apply` refuses the plan
    /// when a cluster no longer matches.
    pub source_fingerprint: String,
    pub target_fingerprint: String,
    /// Fingerprint of the migration file's settings (secrets left out) the plan was made
    /// with; `apply` refuses the plan when the file changed since. Empty in plans of format
    /// 1.0.
    #[serde(default)]
    pub migration_fingerprint: String,
    /// Metadata changes, in the order `apply` carries them out.
    pub actions: Vec<Action>,
    /// When the target uses IAM access control instead of ACLs: the IAM policies, one per
    /// principal, that grant what the migrated ACLs grant (`export iam-policy` writes them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iam_policies: Vec<super::iam_policy::PrincipalPolicy>,
    /// Selected topics and groups whose name on the target differs (`rename` blocks); every
    /// other name in the plan is the target's (actions) or the source's (group offsets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed: Vec<Renamed>,
    /// Consumer group offsets to sync, per group and partition.
    pub group_offsets: Vec<GroupOffsets>,
    /// Applications found on the source whose state lives in its topics (Kafka Streams
    /// applications, Kafka Connect clusters, schema registries), each with what of it the
    /// migration carries. Since format 1.3.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<super::units::Unit>,
    /// Reasons `apply` must refuse this plan.
    pub blockers: Vec<Blocker>,
    pub warnings: Vec<Warning>,
}

/// A topic or group named otherwise on the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Renamed {
    /// `topic` or `group`.
    pub kind: String,
    pub source: String,
    pub target: String,
}

/// One metadata change on the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Create a topic that exists on the source only.
    CreateTopic {
        topic: String,
        partitions: i32,
        replication_factor: i32,
        /// Topic-level configs to set at creation.
        configs: BTreeMap<String, String>,
    },
    /// Add partitions to a target topic that has fewer than the source.
    CreatePartitions {
        topic: String,
        before: i32,
        after: i32,
    },
    /// Set or remove topic-level configs of an existing target topic.
    UpdateTopicConfig {
        topic: String,
        changes: Vec<ConfigChange>,
    },
    /// Create an ACL binding on the target (after principal mapping).
    CreateAcl {
        binding: AclBinding,
        /// The source principal when `principal_map` renamed it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source_principal: Option<String>,
    },
    /// Set or remove client quotas of one entity (user, client id, both, or a default) so
    /// that they match the source's (`quotas { sync = true }`). Since format 1.2.
    SetClientQuotas {
        entity: QuotaEntity,
        changes: Vec<QuotaChange>,
    },
}

impl Action {
    /// What the action does, terraform-style.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::CreateTopic { .. } | Action::CreateAcl { .. } => ActionKind::Create,
            Action::CreatePartitions { .. } | Action::UpdateTopicConfig { .. } => {
                ActionKind::Update
            }
            // An entity without quotas on the target gets them; one with quotas changes.
            Action::SetClientQuotas { changes, .. } => {
                if changes.iter().all(|c| c.before.is_none()) {
                    ActionKind::Create
                } else {
                    ActionKind::Update
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Create,
    Update,
}

/// One topic config: absent `before` means it is set anew; absent `after` means it is removed
/// (the topic falls back to the target's default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConfigChange {
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One client quota of an entity: absent `before` means it is set anew; absent `after` means
/// it is removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct QuotaChange {
    /// Such as `producer_byte_rate`, `consumer_byte_rate`, `request_percentage`.
    pub key: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
}

/// A consumer group's offsets, source → target, per partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GroupOffsets {
    pub group: String,
    pub partitions: Vec<GroupPartitionOffset>,
    /// Why the group counts as cut over, when it does: its consumers ran on the target
    /// (offsets committed there past the exact translation), or an earlier `apply` recorded it
    /// so. Its offsets are not synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_over: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GroupPartitionOffset {
    pub topic: String,
    pub partition: i32,
    /// Offset the group committed on the source.
    pub source_offset: i64,
    /// Offset the group has on the target now, if any.
    pub target_current: Option<i64>,
    pub target: OffsetTarget,
}

impl GroupPartitionOffset {
    /// The offset a sync commits here: the exact translation, when the target holds another
    /// offset. Behind it, the sync moves the group forward; ahead of it (the group was rewound
    /// on the source), back — groups whose consumers committed on the target have cut over
    /// and are not synced at all.
    pub fn to_commit(&self) -> Option<i64> {
        match self.target {
            OffsetTarget::Translated { offset } if self.target_current != Some(offset) => {
                Some(offset)
            }
            _ => None,
        }
    }
}

/// Where a source offset lands on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OffsetTarget {
    /// The exact target offset.
    Translated { offset: i64 },
    /// The records before the source offset are not all replicated yet.
    PendingReplication,
}

/// A reason apply must not proceed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Blocker {
    pub kind: BlockerKind,
    /// The topic, ACL or group concerned.
    pub subject: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlockerKind {
    TargetHasMorePartitions,
    TargetTopicHasForeignRecords,
    CleanupPolicyMismatch,
    ReplicationFactorTooHigh,
    SourceTopicUnreadable,
    ConfigRejected,
    /// The target topic, as planned, would refuse records the source topic accepts.
    RecordLimitTooLow,
    /// An MSK target would hold more partitions than its brokers (or Serverless) allow.
    PartitionBudgetExceeded,
    /// The target's `msk` block disagrees with what MSK's API says the cluster is.
    MskMismatch,
    /// Names the migration renames cannot be kept apart (or held) on the target, or the
    /// engine cannot rename.
    RenameConflict,
}

/// Something the operator should know; apply proceeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Warning {
    pub kind: WarningKind,
    pub subject: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// Compacted, truncated or transactional topics: target offsets will not equal source
    /// offsets (group offsets are translated exactly regardless).
    OffsetsWillDiffer,
    /// The group still has members on the source: its offsets keep moving.
    GroupActiveOnSource,
    /// The group already has members on the target: it has cut over and is not synced.
    GroupActiveOnTarget,
    /// The group's consumers ran on the target, or an earlier `apply` recorded that it cut
    /// over: it is not synced.
    GroupCutOver,
    /// The group's source offsets moved back: the sync moves its target offsets back to the
    /// new translation.
    GroupRewound,
    /// ACLs that cannot be created on the target.
    AclNotExpressible,
    /// A source topic config the target does not know or its version refuses: left out.
    ConfigLeftOut,
    /// An MSK target would hold more partitions per broker than AWS recommends (or Serverless
    /// would have to pace partition creation).
    PartitionBudget,
    /// How the target's MSK type shapes the plan (replication factor, throttle, where the type
    /// was learnt).
    MskTarget,
    /// Client quotas that are not copied (the target has none, or they are per IP address).
    QuotaLeftOut,
    /// The source's SCRAM users (names and mechanisms) and what the target needs for them.
    ScramUsers,
    /// Failback is enabled: after the cutover, apply writes to the source.
    FailbackWritesSource,
    /// A prefixed ACL covers a topic or group renamed one by one: the renamed ACL does not
    /// cover its name on the target.
    AclRenamed,
    /// An application (Streams application, Connect cluster, schema registry) is carried in
    /// part: what is left behind, and what that does on the target.
    UnitInPart,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub blocked: usize,
    /// Group partition offsets the sync would commit: translated, ahead of the target's, of
    /// groups that have not cut over.
    pub offsets_to_sync: usize,
    /// Group partition offsets whose records are not all replicated yet.
    pub offsets_pending: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            blocked: self.blockers.len(),
            ..Summary::default()
        };
        for action in &self.actions {
            match action.kind() {
                ActionKind::Create => s.create += 1,
                ActionKind::Update => s.update += 1,
            }
        }
        let live = self.group_offsets.iter().filter(|g| g.cut_over.is_none());
        for p in live.flat_map(|g| &g.partitions) {
            if p.to_commit().is_some() {
                s.offsets_to_sync += 1;
            } else if p.target == OffsetTarget::PendingReplication {
                s.offsets_pending += 1;
            }
        }
        s
    }

    /// Whether applying the plan would change any metadata.
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty()
    }
}

/// Which engine replicates the migration: what the plan creates for it differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// kafka-migrate's own engine, whose progress topic the plan creates.
    #[default]
    Native,
    /// MirrorMaker 2 on Kafka Connect, which keeps its state in the worker's topics.
    Connect,
}
