//! The survey-based checks and the quiet watch, on hand-built inventories and plans.

use std::time::{Duration, Instant};

use crate::cluster::inventory::{Group, Role};
use crate::plan::{self, GroupOffsets, GroupPartitionOffset, OffsetTarget};
use crate::replicate::Status;
use crate::state::{PartitionProgress, Position, Progress};
use crate::testing::{inventory, migration, topic};

use super::checks;
use super::quiet::QuietWatch;
use super::{Check, CheckStatus, Fact, Level};

/// A check's typed findings (render words them: `render::tests` pins the words).
fn facts(check: &Check) -> Vec<Fact> {
    check.findings.iter().map(|f| f.fact.clone()).collect()
}

fn offset_wrong(translated: i64, committed: Option<i64>) -> Fact {
    Fact::GroupOffsetWrong {
        group: "app".into(),
        topic: "a".into(),
        partition: 0,
        source_offset: 50,
        translated,
        committed,
    }
}

fn plan_for(
    m: &crate::config::Migration,
    s: &crate::cluster::Inventory,
    t: &crate::cluster::Inventory,
) -> plan::Plan {
    plan::diff(m, s, t, plan::Engine::Native)
}

fn group(members: usize, offsets: &[(&str, i32, i64)]) -> Group {
    let mut g = Group {
        state: if members > 0 { "Stable" } else { "Empty" }.into(),
        members,
        offsets: Default::default(),
    };
    for (t, p, o) in offsets {
        g.offsets.entry(t.to_string()).or_default().insert(*p, *o);
    }
    g
}

#[test]
fn topics_fail_naming_missing_topics_partition_counts_and_replication_factor() {
    let m = migration("topics { replication_factor = 1 }\n");
    let s = inventory(
        Role::Source,
        vec![
            topic("a", 3, &[], 10),
            topic("b", 2, &[], 10),
            topic("c", 1, &[], 0),
        ],
        vec![],
        vec![],
    );
    let mut c = topic("c", 1, &[], 0);
    c.replication_factor = 3;
    let t = inventory(
        Role::Target,
        vec![topic("a", 3, &[], 10), topic("b", 1, &[], 10), c],
        vec![],
        vec![],
    );
    let check = checks::topics(&m, &s, &t, &plan_for(&m, &s, &t));
    assert_eq!(check.status, CheckStatus::Fail);
    assert!(
        check
            .evidence
            .iter()
            .any(|e| e.contains("topic \"b\" has 1 partition(s) on the target, 2 on the source")),
        "{check:?}"
    );
    assert!(check.evidence.iter().any(|e| e.contains("topic \"c\" has replication factor 3 on the target, 1 wanted (topics.replication_factor)")), "{check:?}");
    let t = inventory(Role::Target, vec![topic("a", 3, &[], 10)], vec![], vec![]);
    let check = checks::topics(&m, &s, &t, &plan_for(&m, &s, &t));
    assert!(
        check
            .evidence
            .contains(&"topic \"b\" is missing on the target".to_string()),
        "{check:?}"
    );
}

#[test]
fn configs_fail_with_the_key_and_both_values() {
    let m = migration("");
    let s = inventory(
        Role::Source,
        vec![topic("a", 1, &[("retention.ms", "1000")], 0)],
        vec![],
        vec![],
    );
    let t = inventory(
        Role::Target,
        vec![topic("a", 1, &[("retention.ms", "5")], 0)],
        vec![],
        vec![],
    );
    let check = checks::configs(&plan_for(&m, &s, &t));
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(
        check.evidence,
        vec!["topic \"a\": retention.ms is 5 on the target, 1000 wanted"]
    );
    let t = inventory(
        Role::Target,
        vec![topic("a", 1, &[("retention.ms", "1000")], 0)],
        vec![],
        vec![],
    );
    assert_eq!(
        checks::configs(&plan_for(&m, &s, &t)).status,
        CheckStatus::Pass
    );
}

#[test]
fn lag_fails_per_partition_behind_and_respects_max_lag() {
    let s = inventory(Role::Source, vec![topic("a", 2, &[], 100)], vec![], vec![]);
    let mut progress = Progress::default();
    for (p, next) in [(0, 100), (1, 90)] {
        progress.partitions.insert(
            ("a".into(), p),
            PartitionProgress {
                position: Some(Position {
                    next_source: next,
                    next_target: next,
                }),
                ..Default::default()
            },
        );
    }
    let status = Status::from_inventory("m", &s, &progress);
    let check = checks::lag(&migration(""), &status, true);
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(
        facts(&check),
        vec![Fact::Behind {
            topic: "a".into(),
            partition: 1,
            lag: 10,
            source_end: 100,
            replicated_to: Some(90),
        }]
    );
    assert_eq!(check.findings[0].level, Level::Failure);
    let lenient = migration("cutover { max_lag = 10 }\n");
    assert_eq!(
        checks::lag(&lenient, &status, true).status,
        CheckStatus::Pass
    );
    let none = Status::from_inventory("m", &s, &Progress::default());
    let check = checks::lag(&migration(""), &none, false);
    assert_eq!(
        facts(&check)[0],
        Fact::NotStarted {
            migration: "m".into()
        },
        "{check:?}"
    );
}

#[test]
fn groups_fail_on_a_wrong_or_missing_offset_and_on_members_on_both_sides() {
    let m = migration("");
    let s = inventory(Role::Source, vec![], vec![], vec![("app", group(0, &[]))]);
    let t = inventory(Role::Target, vec![], vec![], vec![]);
    let mut plan = plan_for(&m, &s, &t);
    let part = |current, target| GroupPartitionOffset {
        topic: "a".into(),
        partition: 0,
        source_offset: 50,
        target_current: current,
        target,
    };
    plan.group_offsets = vec![GroupOffsets {
        group: "app".into(),
        partitions: vec![part(Some(48), OffsetTarget::Translated { offset: 48 })],
        cut_over: None,
    }];
    assert_eq!(checks::groups(&m, &s, &t, &plan).status, CheckStatus::Pass);
    plan.group_offsets[0].partitions =
        vec![part(Some(40), OffsetTarget::Translated { offset: 48 })];
    let check = checks::groups(&m, &s, &t, &plan);
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(facts(&check), vec![offset_wrong(48, Some(40))]);
    plan.group_offsets[0].partitions = vec![part(None, OffsetTarget::PendingReplication)];
    assert_eq!(
        facts(&checks::groups(&m, &s, &t, &plan)),
        vec![Fact::GroupOffsetPending {
            group: "app".into(),
            topic: "a".into(),
            partition: 0,
            source_offset: 50,
        }]
    );

    // Past the translation where the sync never committed (rewound on the source): a
    // failure with the offsets as evidence.
    plan.group_offsets[0].partitions =
        vec![part(Some(60), OffsetTarget::Translated { offset: 48 })];
    crate::plan::mark_cut_over(
        &mut plan.group_offsets,
        &Default::default(),
        &Default::default(),
    );
    let check = checks::groups(&m, &s, &t, &plan);
    assert_eq!(check.status, CheckStatus::Fail, "{check:?}");
    assert_eq!(facts(&check), vec![offset_wrong(48, Some(60))]);

    // Consumed on the target since the sync committed 48 there (marked cut over): a note,
    // not a failure.
    let synced = [(
        "app".to_string(),
        [(
            ("a".to_string(), 0),
            crate::state::SyncedOffset {
                topic: "a".into(),
                partition: 0,
                offset: 48,
                previous: None,
            },
        )]
        .into(),
    )]
    .into();
    crate::plan::mark_cut_over(&mut plan.group_offsets, &Default::default(), &synced);
    let check = checks::groups(&m, &s, &t, &plan);
    assert_eq!(check.status, CheckStatus::Pass, "{check:?}");
    assert!(
        matches!(&facts(&check)[0], Fact::GroupCutOver { group, why }
            if group == "app" && why.starts_with("a partition 0: committed 60")),
        "{check:?}"
    );
    assert_eq!(check.findings[0].level, Level::Note);

    // Cut over: members on the target only pass; on both clusters fail.
    plan.group_offsets.clear();
    let t = inventory(Role::Target, vec![], vec![], vec![("app", group(2, &[]))]);
    let check = checks::groups(&m, &s, &t, &plan);
    assert_eq!(check.status, CheckStatus::Pass);
    assert_eq!(
        facts(&check),
        vec![Fact::GroupOnTarget {
            group: "app".into(),
            members_on_target: 2
        }],
        "{check:?}"
    );
    let s = inventory(Role::Source, vec![], vec![], vec![("app", group(1, &[]))]);
    let check = checks::groups(&m, &s, &t, &plan);
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(
        facts(&check),
        vec![Fact::GroupActiveOnBoth {
            group: "app".into(),
            members_on_source: 1,
            members_on_target: 2
        }]
    );
    let off = migration("consumer_groups { sync = false }\n");
    assert_eq!(
        checks::groups(&off, &s, &t, &plan).status,
        CheckStatus::Skip
    );
}

#[test]
fn quiet_watch_fails_while_end_offsets_move_and_passes_after_the_period() {
    let period = Duration::from_secs(30);
    let t0 = Instant::now();
    let ends = |o: i64| [(("a".to_string(), 0), o)].into_iter().collect();
    let mut w = QuietWatch::new();
    w.observe(&ends(10), t0);
    assert_eq!(
        w.remaining(period, t0 + Duration::from_secs(10)),
        Duration::from_secs(20)
    );
    w.observe(&ends(15), t0 + Duration::from_secs(30));
    let check = w.check(period, t0 + Duration::from_secs(30));
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(
        facts(&check),
        vec![Fact::EndMoved {
            topic: "a".into(),
            partition: 0,
            before: 10,
            after: 15
        }]
    );
    // The period counts from the last movement.
    w.observe(&ends(15), t0 + Duration::from_secs(40));
    let check = w.check(period, t0 + Duration::from_secs(40));
    assert_eq!(check.status, CheckStatus::Fail);
    assert!(
        check.summary.contains("quiet for 10s of the required 30s"),
        "{check:?}"
    );
    w.observe(&ends(15), t0 + Duration::from_secs(60));
    assert_eq!(
        w.check(period, t0 + Duration::from_secs(60)).status,
        CheckStatus::Pass
    );
}

#[test]
fn quiet_watch_names_what_moved_within_the_period_from_where_it_stood() {
    let period = Duration::from_secs(3);
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    let ends = |a: i64, b: i64| {
        [(("a".to_string(), 0), a), (("b".to_string(), 0), b)]
            .into_iter()
            .collect()
    };
    let moving = |w: &mut QuietWatch, s: u64| -> Vec<(String, i64, i64)> {
        w.moving(period, at(s))
            .into_iter()
            .map(|m| (m.topic, m.before, m.after))
            .collect()
    };
    let mut w = QuietWatch::new();
    w.observe(&ends(10, 5), at(0));
    assert!(moving(&mut w, 0).is_empty());
    w.observe(&ends(12, 5), at(1));
    w.observe(&ends(15, 6), at(2));
    assert_eq!(
        moving(&mut w, 2),
        [("a".into(), 10, 15), ("b".into(), 5, 6)]
    );
    assert_eq!(w.quiet_for(at(2)), Duration::ZERO);
    // Still within the period of the last movement.
    w.observe(&ends(15, 6), at(4));
    assert_eq!(moving(&mut w, 4).len(), 2);
    assert_eq!(w.quiet_for(at(4)), Duration::from_secs(2));
    // Stood still for the period: forgotten; a later movement is named from where it stood.
    w.observe(&ends(15, 6), at(5));
    assert!(moving(&mut w, 5).is_empty());
    assert_eq!(w.remaining(period, at(5)), Duration::ZERO);
    w.observe(&ends(20, 6), at(6));
    assert_eq!(moving(&mut w, 6), [("a".into(), 15, 20)]);
    assert_eq!(w.remaining(period, at(6)), period);
}

#[test]
fn quotas_fail_naming_each_quota_the_target_lacks() {
    use crate::cluster::quotas::{ClientQuota, QuotaEntity, QuotaName};
    let sync = migration("quotas {\n  sync = true\n}\n");
    let mut s = inventory(Role::Source, vec![], vec![], vec![]);
    s.quotas = Some(vec![ClientQuota {
        entity: QuotaEntity {
            user: Some(QuotaName::Named("alice".into())),
            ..Default::default()
        },
        values: [("producer_byte_rate".to_string(), 1024.0)].into(),
    }]);
    let mut t = inventory(Role::Target, vec![], vec![], vec![]);
    t.quotas = Some(vec![]);
    let plan = plan::diff(&sync, &s, &t, plan::Engine::Connect);
    let check = checks::quotas(&sync, &plan);
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(
        check.evidence,
        ["client quotas of user \"alice\": producer_byte_rate is unset on the target, 1024 wanted"]
    );
    t.quotas = s.quotas.clone();
    let plan = plan::diff(&sync, &s, &t, plan::Engine::Connect);
    assert_eq!(checks::quotas(&sync, &plan).status, CheckStatus::Pass);
    assert_eq!(
        checks::quotas(&migration(""), &plan).status,
        CheckStatus::Skip
    );
}

#[test]
fn a_cluster_that_is_not_the_migrations_fails_connectivity_naming_both_ids() {
    let refused = crate::survey::identity::refusal(crate::state::identity::Mismatch {
        migration: "orders".into(),
        role: Role::Source,
        recorded: "src-A".into(),
        now: "src-C".into(),
    });
    let check = checks::unreachable(&refused);
    assert_eq!(check.status, CheckStatus::Fail);
    assert_eq!(
        check.summary,
        "the source cluster is not the one this migration recorded"
    );
    let evidence = check.evidence.join("\n");
    assert!(
        evidence.contains("\"src-A\"") && evidence.contains("\"src-C\""),
        "{evidence}"
    );
    assert!(evidence.contains("help: "), "{evidence}");
    // Any other failure to read a cluster says so.
    let other = crate::cluster::ClusterError::other(Role::Target, "listing topics", "x".into());
    assert_eq!(
        checks::unreachable(&other).summary,
        "the target cluster could not be read"
    );
}
