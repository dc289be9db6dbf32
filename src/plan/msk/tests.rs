//! The MSK rules on hand-built inventories: per type, the configs left out (with warnings),
//! the replication factor, the blockers with their numbers.

use std::path::Path;

use crate::cluster::inventory::{Inventory, Role, Topic};
use crate::config::Migration;
use crate::plan::{diff, Action, BlockerKind, Engine, Plan, WarningKind};
use crate::testing::{inventory, topic};

pub(crate) fn migration(msk: &str, extra: &str) -> Migration {
    let text = format!(
        "name = \"m\"\ncluster \"source\" {{ bootstrap_servers = [\"a:1\"] }}\ncluster \"target\" {{\n  bootstrap_servers = [\"b:1\"]\n  msk {{
    {msk}
  }}\n}}\n{extra}"
    );
    crate::config::parse_with_env("m.hcl", &text, Path::new("."), &[], &|_| None).unwrap()
}

fn rf(mut t: Topic, rf: i32) -> Topic {
    t.replication_factor = rf;
    t
}

/// Topics with a locked config, one the types differ on, an allowed one, a compacted topic,
/// replication factor 2 and a record limit above Serverless's.
fn source() -> Inventory {
    inventory(
        Role::Source,
        vec![
            rf(
                topic(
                    "locked",
                    2,
                    &[("min.insync.replicas", "2"), ("retention.ms", "3600000")],
                    0,
                ),
                2,
            ),
            rf(
                topic(
                    "segments",
                    2,
                    &[
                        ("segment.bytes", "10485760"),
                        ("confluent.placement.constraints", "{}"),
                    ],
                    0,
                ),
                2,
            ),
            rf(
                topic("compacted", 3, &[("cleanup.policy", "compact")], 0),
                2,
            ),
            rf(topic("big", 1, &[("max.message.bytes", "9437184")], 0), 2),
        ],
        vec![],
        vec![],
    )
}

fn target() -> Inventory {
    let mut t = inventory(Role::Target, vec![], vec![], vec![]);
    t.brokers = 3;
    t.defaults.message_max_bytes = Some(10 << 20);
    t
}

fn created(plan: &Plan, name: &str) -> (i32, Vec<(String, String)>) {
    plan.actions
        .iter()
        .find_map(|a| match a {
            Action::CreateTopic {
                topic,
                replication_factor,
                configs,
                ..
            } if topic == name => Some((
                *replication_factor,
                configs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no CreateTopic {name}: {:#?}", plan.actions))
}

fn left_out(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::ConfigLeftOut)
        .map(|w| {
            let key = w.message.split_once('=').map_or("", |(k, _)| k);
            format!("{} {}", w.subject, key.trim_start_matches("config "))
        })
        .collect();
    out.sort();
    out
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn standard_keeps_the_source_replication_factor_and_apache_kafka_configs() {
    let plan = diff(
        &migration("type = \"standard\"", ""),
        &source(),
        &target(),
        Engine::Native,
    );
    assert!(plan.blockers.is_empty(), "{:#?}", plan.blockers);
    assert_eq!(
        created(&plan, "segments"),
        (2, pairs(&[("segment.bytes", "10485760")]))
    );
    assert_eq!(
        created(&plan, "big"),
        (2, pairs(&[("max.message.bytes", "9437184")]))
    );
    assert_eq!(
        created(&plan, "locked").1,
        pairs(&[("retention.ms", "3600000")])
    );
    assert_eq!(
        left_out(&plan),
        ["topic \"segments\" confluent.placement.constraints"]
    );
    let reason = &plan
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::ConfigLeftOut)
        .unwrap()
        .message;
    assert!(reason.contains("no confluent.* configs"), "{reason}");
}

#[test]
fn express_takes_three_replicas_and_only_its_topic_configs() {
    let plan = diff(
        &migration("type = \"express\"", ""),
        &source(),
        &target(),
        Engine::Native,
    );
    assert!(plan.blockers.is_empty(), "{:#?}", plan.blockers);
    assert_eq!(created(&plan, "segments"), (3, vec![]));
    assert_eq!(
        created(&plan, "locked"),
        (3, pairs(&[("retention.ms", "3600000")]))
    );
    assert_eq!(
        created(&plan, "compacted"),
        (3, pairs(&[("cleanup.policy", "compact")]))
    );
    assert_eq!(
        created(&plan, "big"),
        (3, pairs(&[("max.message.bytes", "9437184")]))
    );
    assert_eq!(
        left_out(&plan),
        [
            "topic \"segments\" confluent.placement.constraints",
            "topic \"segments\" segment.bytes"
        ]
    );
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.message.contains("do not let topics set it")));
}

#[test]
fn serverless_blocks_records_above_8_mib_and_throttles_by_default() {
    let plan = diff(
        &migration("type = \"serverless\"", ""),
        &source(),
        &target(),
        Engine::Native,
    );
    let blockers: Vec<(BlockerKind, &str)> = plan
        .blockers
        .iter()
        .map(|b| (b.kind, b.subject.as_str()))
        .collect();
    assert_eq!(
        blockers,
        [(BlockerKind::RecordLimitTooLow, "topic \"big\"")]
    );
    let reason = &plan.blockers[0].reason;
    assert!(
        reason.contains("9437184") && reason.contains("8388608"),
        "{reason}"
    );
    assert_eq!(created(&plan, "segments"), (3, vec![]));
    assert_eq!(
        created(&plan, "compacted"),
        (3, pairs(&[("cleanup.policy", "compact")]))
    );
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.kind == WarningKind::MskTarget && w.message.contains("200 MiB/s")));
    // An explicit throttle replaces the default one.
    let plan = diff(
        &migration(
            "type = \"serverless\"",
            "replication { max_bytes_per_second = \"10MiB\" }",
        ),
        &source(),
        &target(),
        Engine::Native,
    );
    assert!(!plan
        .warnings
        .iter()
        .any(|w| w.message.contains("200 MiB/s")));
}

#[test]
fn an_override_the_target_refuses_is_a_blocker() {
    let plan = diff(
        &migration(
            "type = \"express\"",
            "topics {\n  include = [\"^locked$\"]\n  config { override = { \"segment.ms\" = \"1000\" } }\n}",
        ),
        &source(),
        &target(),
        Engine::Native,
    );
    assert_eq!(plan.blockers.len(), 1, "{:#?}", plan.blockers);
    assert_eq!(plan.blockers[0].kind, BlockerKind::ConfigRejected);
    assert!(plan.blockers[0].reason.contains("segment.ms=1000"));
}

#[test]
fn a_replication_factor_express_does_not_give_is_not_used() {
    let plan = diff(
        &migration("type = \"express\"", "topics { replication_factor = 2 }"),
        &source(),
        &target(),
        Engine::Native,
    );
    assert_eq!(created(&plan, "big").0, 3);
    assert!(plan.warnings.iter().any(|w| w
        .message
        .contains("`topics.replication_factor = 2` is not used")));
}

fn many(count: usize, partitions: i32, configs: &[(&str, &str)]) -> Inventory {
    let topics = (0..count)
        .map(|i| rf(topic(&format!("t{i:03}"), partitions, configs, 0), 3))
        .collect();
    inventory(Role::Source, topics, vec![], vec![])
}

#[test]
fn partitions_per_broker_above_the_recommendation_warn_and_above_the_maximum_block() {
    let m = migration(
        "type = \"standard\"\nbroker_type = \"kafka.m5.large\"\nbrokers = 3",
        "",
    );
    // 12 topics × 100 partitions × 3 replicas, and the progress topic's 3, over 3 brokers:
    // 1,201 per broker, above the 1,000 recommended and below the maximum of 1,500.
    let plan = diff(&m, &many(12, 100, &[]), &target(), Engine::Native);
    assert!(plan.blockers.is_empty(), "{:#?}", plan.blockers);
    let warning = plan
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::PartitionBudget)
        .expect("a budget warning");
    assert!(
        warning
            .message
            .contains("3603 partition replicas over 3 kafka.m5.large broker(s) is 1201 per broker"),
        "{}",
        warning.message
    );
    // 16 × 100 × 3 / 3 = 1,600 (+ the progress topic) per broker: above 1,500.
    let plan = diff(&m, &many(16, 100, &[]), &target(), Engine::Native);
    assert_eq!(plan.blockers.len(), 1, "{:#?}", plan.blockers);
    assert_eq!(plan.blockers[0].kind, BlockerKind::PartitionBudgetExceeded);
    assert!(plan.blockers[0]
        .reason
        .contains("1601 per broker, above the maximum of 1500"));
}

#[test]
fn serverless_counts_partitions_and_compacted_partitions_per_cluster() {
    let m = migration("type = \"serverless\"", "");
    let plan = diff(
        &m,
        &many(13, 10, &[("cleanup.policy", "compact")]),
        &target(),
        Engine::Native,
    );
    let reasons: Vec<&str> = plan.blockers.iter().map(|b| b.reason.as_str()).collect();
    assert_eq!(
        reasons,
        ["the target would hold 131 partitions of compacted topics, above MSK Serverless's 120 per cluster"]
    );
    let plan = diff(&m, &many(25, 100, &[]), &target(), Engine::Native);
    assert!(plan.blockers[0]
        .reason
        .contains("2501 partitions, above MSK Serverless's 2400"));
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.message.contains("creates 2501 partitions")));
}

#[test]
fn serverless_turns_acls_into_a_warning_without_iam() {
    let mut source = source();
    source.acls = crate::cluster::inventory::Acls::Listed {
        bindings: vec![crate::testing::acl(
            "big",
            crate::cluster::native::PatternType::Literal,
            "User:alice",
        )],
    };
    let plan = diff(
        &migration("type = \"serverless\"", ""),
        &source,
        &target(),
        Engine::Native,
    );
    assert!(!plan
        .actions
        .iter()
        .any(|a| matches!(a, Action::CreateAcl { .. })));
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.message.contains("MSK Serverless takes no Kafka ACLs")));
}

/// The declared type against MSK's API: agreement is noted with what it described (and its
/// broker size feeds the budget), each disagreement is a blocker naming the attribute,
/// no answer is noted with why.
#[test]
fn the_declared_type_is_checked_against_msks_description() {
    use crate::cluster::msk_api::{MskDescription, MskLookup};
    let described = |kind: crate::config::MskType, instance: &str, brokers: u32| {
        let mut t = target();
        t.msk = Some(MskLookup::Described {
            cluster: MskDescription {
                kind,
                kafka_version: Some("3.6.0".into()),
                brokers: Some(brokers),
                instance_type: Some(instance.into()),
                storage_mode: Some("LOCAL".into()),
            },
        });
        t
    };
    let m = migration("type = \"standard\"", "");
    let plan = diff(
        &m,
        &source(),
        &described(crate::config::MskType::Standard, "kafka.t3.small", 1),
        Engine::Connect,
    );
    assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);
    assert!(plan.warnings.iter().any(|w| w.message
        == "MSK's API (DescribeClusterV2) describes the target as MSK Standard, Kafka 3.6.0, 1 kafka.t3.small broker(s), local storage"));
    let m = migration(
        "type = \"express\"\n    broker_type = \"express.m7g.large\"\n    brokers = 3",
        "",
    );
    let plan = diff(
        &m,
        &source(),
        &described(crate::config::MskType::Standard, "kafka.m5.large", 6),
        Engine::Connect,
    );
    let mismatches: Vec<(&str, &str)> = plan
        .blockers
        .iter()
        .filter(|b| b.kind == BlockerKind::MskMismatch)
        .map(|b| (b.subject.as_str(), b.reason.as_str()))
        .collect();
    assert_eq!(mismatches.len(), 3, "{mismatches:?}");
    assert_eq!(mismatches[0].0, "cluster \"target\" msk.type");
    assert!(mismatches[0].1.starts_with("declared \"express\", but MSK's API (DescribeClusterV2) describes the cluster with type \"standard\""));
    assert_eq!(mismatches[2].0, "cluster \"target\" msk.brokers");
    let mut unanswered = target();
    unanswered.msk = Some(MskLookup::Unanswered {
        reason: "no AWS credentials".into(),
    });
    let plan = diff(
        &migration("type = \"standard\"", ""),
        &source(),
        &unanswered,
        Engine::Connect,
    );
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.message.contains("planned with the values declared")
            && w.message.contains("(no AWS credentials)")));
}
