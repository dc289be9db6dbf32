//! The diff as a pure function: inventories in, plan out — and the human view of it, pinned.

use std::path::Path;

use crate::cluster::inventory::{Group, Inventory, Role, Topic};
use crate::cluster::native::PatternType;
use crate::config::Migration;
use crate::testing::{acl, inventory, migration, topic};

use super::*;

pub(crate) fn progress_topic() -> Topic {
    topic(
        "kafka-migrate.m.progress",
        1,
        &[("cleanup.policy", "compact")],
        0,
    )
}

pub(crate) fn sample() -> (Migration, Inventory, Inventory) {
    let m = migration("topics { include = [\"^orders\"] }\nacls { principal_map = { \"User:old\" = \"User:new\" } }\n");
    let source = inventory(
        Role::Source,
        vec![
            topic(
                "orders",
                3,
                &[("retention.ms", "86400000"), ("min.insync.replicas", "2")],
                100,
            ),
            topic("orders.eu", 6, &[("cleanup.policy", "compact")], 10),
            topic("billing", 1, &[], 5),
        ],
        vec![
            acl("orders", PatternType::Literal, "User:old"),
            acl("orders.", PatternType::Prefixed, "User:svc"),
            acl("billing", PatternType::Literal, "User:x"),
        ],
        vec![(
            "app",
            Group {
                state: "Empty".into(),
                members: 0,
                offsets: [("orders".to_string(), [(0, 40), (1, 7)].into())].into(),
            },
        )],
    );
    let target = inventory(
        Role::Target,
        vec![
            topic(
                "orders",
                2,
                &[("retention.ms", "1000"), ("segment.ms", "60000")],
                0,
            ),
            progress_topic(),
        ],
        vec![acl("orders.", PatternType::Prefixed, "User:svc")],
        vec![],
    );
    (m, source, target)
}

#[test]
fn the_diff_lists_creates_updates_and_acls() {
    let (m, source, target) = sample();
    let plan = diff(&m, &source, &target, Engine::Native);
    assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);
    assert_eq!(plan.actions.len(), 4, "{:#?}", plan.actions);
    assert!(
        matches!(&plan.actions[0], Action::CreatePartitions { topic, before: 2, after: 3 } if topic == "orders")
    );
    match &plan.actions[1] {
        Action::UpdateTopicConfig { topic, changes } => {
            assert_eq!(topic, "orders");
            assert_eq!(
                changes,
                &vec![
                    ConfigChange {
                        key: "retention.ms".into(),
                        before: Some("1000".into()),
                        after: Some("86400000".into())
                    },
                    ConfigChange {
                        key: "segment.ms".into(),
                        before: Some("60000".into()),
                        after: None
                    },
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(&plan.actions[2], Action::CreateTopic { topic, partitions: 6, configs, .. } if topic == "orders.eu" && configs["cleanup.policy"] == "compact")
    );
    match &plan.actions[3] {
        Action::CreateAcl {
            binding,
            source_principal,
        } => {
            assert_eq!(binding.principal, "User:new");
            assert_eq!(source_principal.as_deref(), Some("User:old"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(plan.group_offsets.len(), 1);
    assert_eq!(plan.group_offsets[0].partitions.len(), 2);
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.kind == WarningKind::OffsetsWillDiffer));
    assert_eq!(
        plan.summary(),
        Summary {
            create: 2,
            update: 2,
            blocked: 0,
            offsets_to_sync: 0,
            offsets_pending: 2,
        }
    );
    // Translated offsets ahead of the target's are to sync; those at or behind it are not.
    let mut translated = plan.clone();
    let parts = &mut translated.group_offsets[0].partitions;
    parts[0].target = OffsetTarget::Translated { offset: 40 };
    parts[1].target = OffsetTarget::Translated { offset: 7 };
    parts[1].target_current = Some(7);
    let s = translated.summary();
    assert_eq!((s.offsets_to_sync, s.offsets_pending), (1, 0));
    translated.group_offsets[0].cut_over = Some("consumed on the target".into());
    let s = translated.summary();
    assert_eq!((s.offsets_to_sync, s.offsets_pending), (0, 0));
}

#[test]
fn a_value_equal_to_the_targets_default_is_no_drift() {
    let m = migration("");
    let source = inventory(
        Role::Source,
        vec![topic("t", 1, &[("max.message.bytes", "1048588")], 0)],
        vec![],
        vec![],
    );
    let target = inventory(
        Role::Target,
        vec![topic("t", 1, &[], 0), progress_topic()],
        vec![],
        vec![],
    );
    let plan = diff(&m, &source, &target, Engine::Native);
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
}

#[test]
fn user_exclusions_and_overrides_apply() {
    let m = migration("topics {\n  config {\n    exclude = [\"retention.ms\"]\n    override = { \"min.insync.replicas\" = \"2\" }\n  }\n}\n");
    let source = inventory(
        Role::Source,
        vec![topic(
            "t",
            1,
            &[("retention.ms", "5"), ("segment.ms", "9")],
            0,
        )],
        vec![],
        vec![],
    );
    let target = inventory(Role::Target, vec![progress_topic()], vec![], vec![]);
    let plan = diff(&m, &source, &target, Engine::Native);
    match &plan.actions[0] {
        Action::CreateTopic { configs, .. } => {
            assert_eq!(
                configs.keys().collect::<Vec<_>>(),
                vec!["min.insync.replicas", "segment.ms"]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn blockers_name_their_topic() {
    let m = migration("topics {\n  include = [\".*\"]\n  names = [\"ghost\"]\n}\n");
    let source = inventory(
        Role::Source,
        vec![topic("wide", 2, &[], 0), topic("dirty", 1, &[], 0)],
        vec![],
        vec![],
    );
    let target = inventory(
        Role::Target,
        vec![
            topic("wide", 4, &[], 0),
            topic("dirty", 1, &[], 3),
            progress_topic(),
        ],
        vec![],
        vec![],
    );
    let plan = diff(&m, &source, &target, Engine::Native);
    let kinds: Vec<(BlockerKind, &str)> = plan
        .blockers
        .iter()
        .map(|b| (b.kind, b.subject.as_str()))
        .collect();
    assert!(
        kinds.contains(&(BlockerKind::TargetHasMorePartitions, "topic \"wide\"")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(BlockerKind::TargetTopicHasForeignRecords, "topic \"dirty\"")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(BlockerKind::SourceTopicUnreadable, "topic \"ghost\"")),
        "{kinds:?}"
    );
}

#[test]
fn the_plan_file_round_trips_and_checks_its_version() {
    let (m, source, target) = sample();
    let plan = diff(&m, &source, &target, Engine::Native);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    write_plan_file(&plan, &path).unwrap();
    assert_eq!(read_plan_file(&path).unwrap(), plan);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(&format!("\"{FORMAT_VERSION}\""), "\"9.0\"");
    std::fs::write(&path, text).unwrap();
    assert!(matches!(
        read_plan_file(&path),
        Err(PlanFileError::Version { .. })
    ));
}

/// The checked-in plan schema is what the code generates (`UPDATE_SCHEMAS=1` rewrites it).
#[test]
fn the_plan_schema_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/plan.schema.json");
    let schema = plan_schema();
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &schema).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == schema,
        "schemas/plan.schema.json is stale: run UPDATE_SCHEMAS=1 cargo test"
    );
}

/// The sample's topic selection with a target on MSK IAM, `aws_iam` holding `settings`.
pub(crate) fn iam_target(settings: &str) -> Migration {
    let text = format!(
        "name = \"m\"\ncluster \"source\" {{ bootstrap_servers = [\"a:1\"] }}\n\
         cluster \"target\" {{\n  bootstrap_servers = [\"b:1\"]\n  security {{\n    \
         protocol = \"SASL_SSL\"\n    aws_iam {{\n{settings}\n    }}\n  }}\n}}\n\
         topics {{ include = [\"^orders\"] }}\n"
    );
    crate::config::parse_with_env("m.hcl", &text, Path::new("."), &[], &|_| None).unwrap()
}

#[test]
fn an_iam_target_gets_policies_instead_of_acls() {
    let m = iam_target(
        "region = \"us-east-1\"\ncluster_arn = \"arn:aws:kafka:us-east-1:123456789012:cluster/msk/5a6b-7c8d-1\"",
    );
    let (_, source, target) = sample();
    let plan = diff(&m, &source, &target, Engine::Native);
    assert!(
        !plan
            .actions
            .iter()
            .any(|a| matches!(a, Action::CreateAcl { .. })),
        "{:#?}",
        plan.actions
    );
    let principals: Vec<&str> = plan
        .iam_policies
        .iter()
        .map(|p| p.principal.as_str())
        .collect();
    assert_eq!(principals, ["User:old", "User:svc"]);
}

#[test]
fn an_iam_target_without_cluster_arn_warns() {
    let m = iam_target("region = \"us-east-1\"");
    let (_, source, target) = sample();
    let plan = diff(&m, &source, &target, Engine::Native);
    assert!(plan.iam_policies.is_empty());
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.message.contains("set cluster_arn")),
        "{:#?}",
        plan.warnings
    );
}

/// A topic whose record size limit is inherited from its brokers' `message.max.bytes`.
fn inheriting(name: &str, broker_limit: &str) -> Topic {
    let mut t = topic(name, 1, &[], 0);
    t.configs.get_mut("max.message.bytes").unwrap().value = Some(broker_limit.into());
    t
}

#[test]
fn a_target_that_would_refuse_the_sources_records_is_a_blocker() {
    let m = migration("");
    // The source brokers allow 8 MiB record batches, the target's the default 1 MiB; one
    // topic sets its own limit (copied to the target), one existing target topic has a lower
    // one of its own that is excluded from the copy.
    let source = inventory(
        Role::Source,
        vec![
            inheriting("inherits", "8388608"),
            topic("own", 1, &[("max.message.bytes", "8388608")], 0),
            inheriting("existing", "2000000"),
        ],
        vec![],
        vec![],
    );
    let mut target = inventory(
        Role::Target,
        vec![
            topic("existing", 1, &[("max.message.bytes", "1500000")], 0),
            progress_topic(),
        ],
        vec![],
        vec![],
    );
    let plan = diff(&m, &source, &target, Engine::Native);
    let blocked: Vec<(&str, &str)> = plan
        .blockers
        .iter()
        .map(|b| (b.subject.as_str(), b.reason.as_str()))
        .collect();
    assert_eq!(blocked.len(), 2, "{blocked:#?}");
    assert_eq!(blocked[0].0, "topic \"existing\"");
    assert_eq!(blocked[1].0, "topic \"inherits\"");
    let reason = blocked[1].1;
    for part in [
        "up to 8388608 bytes",
        "only up to 1048588 bytes (the target brokers' message.max.bytes)",
        "`topics.config.override = { \"max.message.bytes\" = \"8388608\" }`",
    ] {
        assert!(reason.contains(part), "{reason}");
    }
    // The existing topic's own limit is removed (the source does not set one): the target
    // brokers' default applies, below the source's 2,000,000.
    assert!(
        blocked[0].1.contains("only up to 1048588"),
        "{}",
        blocked[0].1
    );
    assert!(plan
        .blockers
        .iter()
        .all(|b| b.kind == BlockerKind::RecordLimitTooLow));

    // The fix the blocker names clears it, and the engines size their clients for it.
    let fixed = migration(
        "topics {\n  config {\n    override = { \"max.message.bytes\" = \"8388608\" }\n  }\n}\n",
    );
    let plan = diff(&fixed, &source, &target, Engine::Native);
    assert!(plan.blockers.is_empty(), "{:#?}", plan.blockers);
    let limits = record_limits(&fixed, &source, &target);
    assert_eq!(limits.source_max, Some(8_388_608));
    assert_eq!(limits.target_max(), Some(8_388_608));
    assert_eq!(limits.target_min(), Some(8_388_608));

    // Target brokers that allow more than the source take everything without a setting.
    target.defaults.message_max_bytes = Some(10 << 20);
    let plan = diff(&m, &source, &target, Engine::Native);
    assert!(plan.blockers.is_empty(), "{:#?}", plan.blockers);
    let limits = record_limits(&m, &source, &target);
    assert_eq!(limits.target["inherits"], 10 << 20);
    assert_eq!(limits.target["own"], 8_388_608);
}

#[test]
fn a_source_config_the_target_does_not_know_is_left_out_with_a_warning() {
    let m =
        migration("topics {\n  config {\n    override = { \"segment.ms\" = \"60000\" }\n  }\n}\n");
    let source = inventory(
        Role::Source,
        vec![topic(
            "legacy",
            1,
            &[
                ("message.format.version", "2.8-IV1"),
                ("retention.ms", "1000"),
            ],
            0,
        )],
        vec![],
        vec![],
    );
    let mut target = inventory(Role::Target, vec![progress_topic()], vec![], vec![]);
    // A Kafka 4 target: message.format.version is gone; segment.ms, an override, is checked
    // by the target itself (validate-only), not here.
    target.defaults.topic_configs = Some(
        ["retention.ms", "max.message.bytes", "cleanup.policy"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    );
    let plan = diff(&m, &source, &target, Engine::Native);
    assert!(plan.blockers.is_empty(), "{:#?}", plan.blockers);
    match &plan.actions[0] {
        Action::CreateTopic { topic, configs, .. } => {
            assert_eq!(topic, "legacy");
            assert_eq!(
                configs.keys().collect::<Vec<_>>(),
                vec!["retention.ms", "segment.ms"]
            );
        }
        other => panic!("{other:?}"),
    }
    let left_out: Vec<&Warning> = plan
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::ConfigLeftOut)
        .collect();
    assert_eq!(left_out.len(), 1, "{:#?}", plan.warnings);
    assert_eq!(left_out[0].subject, "topic \"legacy\"");
    assert!(
        left_out[0]
            .message
            .contains("message.format.version=2.8-IV1")
            && left_out[0].message.contains("does not know it")
            && left_out[0]
                .message
                .contains("`topics.config.exclude = [\"message.format.version\"]`"),
        "{}",
        left_out[0].message
    );
    // Excluded, it is left out silently.
    let excluded =
        migration("topics {\n  config {\n    exclude = [\"message.format.version\"]\n  }\n}\n");
    let plan = diff(&excluded, &source, &target, Engine::Native);
    assert!(plan
        .warnings
        .iter()
        .all(|w| w.kind != WarningKind::ConfigLeftOut));
}

#[test]
fn a_renamed_migration_plans_under_the_targets_names() {
    let (_, source, _) = sample();
    // The target's inventory is told in the source's names (the client maps them back): its
    // "orders" is the source's orders, named east.orders there.
    let (_, _, target) = sample();
    let m = migration(
        "topics {\n  include = [\"^orders\"]\n  rename {\n    prefix = \"east.\"\n    names  = { \"orders.eu\" = \"eu-orders\" }\n  }\n}\nconsumer_groups {\n  rename {\n    prefix = \"east-\"\n  }\n}\nacls { principal_map = { \"User:old\" = \"User:new\" } }\n",
    );
    let plan = diff(&m, &source, &target, Engine::Native);
    assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);
    let topics: Vec<&str> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::CreatePartitions { topic, .. }
            | Action::UpdateTopicConfig { topic, .. }
            | Action::CreateTopic { topic, .. } => Some(topic.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(topics, ["east.orders", "east.orders", "eu-orders"]);
    let acls: Vec<(&str, PatternType)> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateAcl { binding, .. } => {
                Some((binding.name.as_str(), binding.pattern_type))
            }
            _ => None,
        })
        .collect();
    // The literal ACL follows its topic; the prefixed one gets the prefix in front.
    assert_eq!(
        acls,
        [
            ("east.orders", PatternType::Literal),
            ("east.orders.", PatternType::Prefixed)
        ]
    );
    // The prefixed ACL no longer covers orders.eu, renamed one by one: said.
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.kind == WarningKind::AclRenamed && w.message.contains("eu-orders")),
        "{:#?}",
        plan.warnings
    );
    let renamed: Vec<(&str, &str, &str)> = plan
        .renamed
        .iter()
        .map(|r| (r.kind.as_str(), r.source.as_str(), r.target.as_str()))
        .collect();
    assert_eq!(
        renamed,
        [
            ("topic", "orders", "east.orders"),
            ("topic", "orders.eu", "eu-orders"),
            ("group", "app", "east-app"),
        ]
    );
    // Group offsets stay in the source's names: the sync commits them under the target's.
    assert_eq!(plan.group_offsets[0].group, "app");

    // Two names onto one, and the Connect engine, are blockers.
    let clash = migration(
        "topics {\n  include = [\"^orders\"]\n  rename {\n    names = { \"orders.eu\" = \"orders\" }\n  }\n}\n",
    );
    let plan = diff(&clash, &source, &target, Engine::Native);
    assert!(
        plan.blockers.iter().any(
            |b| b.kind == BlockerKind::RenameConflict && b.reason.contains("orders, orders.eu")
        ),
        "{:#?}",
        plan.blockers
    );
    let plan = diff(&m, &source, &target, Engine::Connect);
    assert!(
        plan.blockers
            .iter()
            .any(|b| b.kind == BlockerKind::RenameConflict && b.reason.contains("Connect engine")),
        "{:#?}",
        plan.blockers
    );
}
