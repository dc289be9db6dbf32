//! The human view of plans, pinned: plans made by the pure diff from the plan module's test
//! inventories.

use crate::cluster::inventory::Role;
use crate::plan::tests::{iam_target, progress_topic, sample};
use crate::plan::{self, Action};
use crate::testing::{inventory, migration};

use super::{plan_text, Paint};

#[test]
fn the_human_view_is_pinned() {
    let (m, source, target) = sample();
    let plan = plan::diff(&m, &source, &target, plan::Engine::Native);
    insta::assert_snapshot!(plan_text(&plan, Paint::plain()));
}

#[test]
fn a_group_that_cut_over_is_shown_and_not_synced() {
    let (m, source, target) = sample();
    let mut plan = plan::diff(&m, &source, &target, plan::Engine::Native);
    plan.group_offsets[0].cut_over = Some("recorded as cut over by an earlier apply".into());
    plan::warn_group_states(&mut plan);
    let text = plan_text(&plan, Paint::plain());
    assert!(text.contains("not synced (cut over)"), "{text}");
    assert!(
        text.contains(
            "group \"app\": the group has cut over (recorded as cut over by an earlier apply): its offsets are not synced"
        ),
        "{text}"
    );
    assert!(!text.contains("pending replication"), "{text}");
}

#[test]
fn an_empty_plan_says_so() {
    let m = migration("");
    let target = inventory(Role::Target, vec![progress_topic()], vec![], vec![]);
    let plan = plan::diff(
        &m,
        &inventory(Role::Source, vec![], vec![], vec![]),
        &target,
        plan::Engine::Native,
    );
    insta::assert_snapshot!(plan_text(&plan, Paint::plain()));
}

#[test]
fn an_iam_target_gets_policies_instead_of_acls() {
    let m = iam_target(
        "region = \"us-east-1\"\ncluster_arn = \"arn:aws:kafka:us-east-1:123456789012:cluster/msk/5a6b-7c8d-1\"",
    );
    let (_, source, target) = sample();
    let plan = plan::diff(&m, &source, &target, plan::Engine::Native);
    assert!(!plan
        .actions
        .iter()
        .any(|a| matches!(a, Action::CreateAcl { .. })));
    insta::assert_snapshot!(plan_text(&plan, Paint::plain()));
}

#[test]
fn a_cutover_shows_its_steps_the_point_and_what_to_switch() {
    use crate::cutover::{Direction, Outcome, StepReport, StepResult};
    use crate::state::CutoverStep;
    let step = StepReport {
        step: CutoverStep::Quiet,
        label: "source quiet",
        result: StepResult::NotPassed,
        detail: "the source is still in use".into(),
        evidence: vec!["written: orders partition 0".into()],
    };
    assert_eq!(
        super::step_line(&step, Paint::plain()),
        "[2/5] source quiet: NOT PASSED — the source is still in use\n      • written: orders partition 0"
    );
    let mut outcome = Outcome {
        migration: "orders".into(),
        direction: Direction::Cutover,
        complete: false,
        steps: vec![step],
        point: None,
        switch: None,
        activity: None,
        report: None,
        dry_run: false,
    };
    let text = super::cutover_text(&outcome, Paint::plain());
    assert!(
        text.contains("NOT CUT OVER: migration \"orders\" stopped at a gate; run cutover again"),
        "{text}"
    );
    completed(&mut outcome);
    let text = super::cutover_text(&outcome, Paint::plain());
    for line in [
        "[5/5] cutover point: 1970-01-01 00:00:00Z — 1 partition(s) recorded",
        "orders partition 0: source end 10, target end 12",
        "CUT OVER: migration \"orders\"; the target is now the system of record.",
        "Switch producers and consumers to bootstrap.servers=b-1:9098,b-2:9098",
        "group \"billing\" resumes on the target at orders/0=12",
    ] {
        assert!(text.contains(line), "{line} missing:\n{text}");
    }
}

/// `outcome` completed: its point at the epoch (orders/0: source end 10, target end 12) and
/// what to switch (two brokers; group billing at orders/0=12).
fn completed(outcome: &mut crate::cutover::Outcome) {
    use crate::cutover::Switch;
    use crate::state::{CutoverPoint, PointPartition};
    outcome.complete = true;
    outcome.point = Some(CutoverPoint {
        at_ms: 0,
        partitions: vec![PointPartition {
            topic: "orders".into(),
            partition: 0,
            source_end: 10,
            target_end: 12,
            at_ms: 0,
        }],
    });
    outcome.switch = Some(Switch {
        bootstrap_servers: vec!["b-1:9098".into(), "b-2:9098".into()],
        groups: [(
            "billing".to_string(),
            [("orders".to_string(), [(0, 12)].into())].into(),
        )]
        .into(),
    });
}

/// The words of each typed finding, as `verify` gave them when its evidence was text.
#[test]
fn findings_are_worded_as_the_evidence_lines_were() {
    use crate::verify::Fact;
    let wrong = |committed| Fact::GroupOffsetWrong {
        group: "app".into(),
        topic: "a".into(),
        partition: 0,
        source_offset: 50,
        translated: 48,
        committed,
    };
    let cases = [
        (
            Fact::Behind {
                topic: "a".into(),
                partition: 1,
                lag: 10,
                source_end: 100,
                replicated_to: Some(90),
            },
            "a partition 1: 10 record offset(s) behind (source last stable offset 100, replicated to 90)",
        ),
        (
            Fact::Behind {
                topic: "a".into(),
                partition: 0,
                lag: 100,
                source_end: 100,
                replicated_to: None,
            },
            "a partition 0: 100 record offset(s) behind (source last stable offset 100, replicated to nothing yet)",
        ),
        (
            Fact::NotStarted {
                migration: "m".into(),
            },
            "replication has not started: no progress of migration \"m\" on the target",
        ),
        (
            wrong(Some(40)),
            "group \"app\" a partition 0: committed 40 on the target, 48 is the exact translation of source offset 50",
        ),
        (
            wrong(Some(60)),
            "group \"app\" a partition 0: committed 60 on the target, 48 is the exact translation of source offset 50",
        ),
        (
            wrong(None),
            "group \"app\" a partition 0: nothing committed on the target, 48 is the exact translation of source offset 50",
        ),
        (
            Fact::GroupOffsetPending {
                group: "app".into(),
                topic: "a".into(),
                partition: 0,
                source_offset: 50,
            },
            "group \"app\" a partition 0: source offset 50 is not replicated yet",
        ),
        (
            Fact::GroupCutOver {
                group: "app".into(),
                why: "a partition 0: committed 60 on the target".into(),
            },
            "group \"app\" has cut over: a partition 0: committed 60 on the target",
        ),
        (
            Fact::GroupOnTarget {
                group: "app".into(),
                members_on_target: 2,
            },
            "group \"app\" has cut over: 2 member(s) on the target only",
        ),
        (
            Fact::GroupActiveOnBoth {
                group: "app".into(),
                members_on_source: 1,
                members_on_target: 2,
            },
            "group \"app\" has members on both clusters (1 on the source, 2 on the target)",
        ),
        (
            Fact::GroupActiveOnSource {
                group: "app".into(),
                members: 3,
            },
            "group \"app\" still has 3 member(s) on the source: its offsets move until they stop",
        ),
        (
            Fact::EndMoved {
                topic: "a".into(),
                partition: 0,
                before: 10,
                after: 15,
            },
            "a partition 0: end offset 10 → 15 (+5)",
        ),
        (
            Fact::RecordDiffers {
                topic: "a".into(),
                partition: 2,
                record: 7,
                fields: vec!["value", "headers"],
                source_offset: 106,
                target_offset: 110,
            },
            "a partition 2: record #7 of the range differs in value, headers (source offset 106, target offset 110)",
        ),
        (
            Fact::CountDiffers {
                topic: "a".into(),
                partition: 2,
                source_records: 10,
                target_records: 9,
                source_from: 0,
                source_to: 10,
                target_from: 0,
                target_to: 9,
                source_unmatched: Some(9),
                target_unmatched: None,
            },
            "a partition 2: 10 record(s) on the source, 9 on the target in the compared range (source offsets 0..10, target offsets 0..9); first unmatched: source offset 9, target offset none",
        ),
        (
            Fact::DigestDiffers {
                topic: "a".into(),
                partition: 2,
                source_digest: "0011223344556677".into(),
                target_digest: "8899aabbccddeeff".into(),
                first: 1025,
                last: 2048,
            },
            "a partition 2: digests differ (source 0011223344556677, target 8899aabbccddeeff) in records 1025..2048 of the range",
        ),
        (
            Fact::NotCompared {
                topic: "a".into(),
                partition: 2,
                below: 500,
            },
            "a partition 2: offsets below 500 are no longer on the source and were not compared",
        ),
    ];
    for (fact, line) in cases {
        assert_eq!(super::fact_line(&fact), line);
    }
}

/// A verify report: a failed lag check with a typed finding, a warning given as text.
fn report() -> crate::verify::Report {
    use crate::verify::{Check, CheckStatus, Fact, Finding, Level, Report};
    Report {
        migration: "orders".into(),
        ready: false,
        verdict: "NOT READY",
        checks: vec![
            Check {
                name: "acls",
                status: CheckStatus::Warn,
                summary: "every planned ACL binding is on the target".into(),
                evidence: vec!["the source's ACLs could not be listed: denied".into()],
                findings: vec![],
            },
            Check {
                name: "lag",
                status: CheckStatus::Fail,
                summary: "1 of 1 partition(s) behind the source".into(),
                evidence: vec![],
                findings: vec![Finding {
                    level: Level::Failure,
                    fact: Fact::Behind {
                        topic: "orders".into(),
                        partition: 0,
                        lag: 5,
                        source_end: 10,
                        replicated_to: Some(5),
                    },
                }],
            },
        ],
        cut_over_at_ms: None,
    }
}

#[test]
fn verify_json_has_its_format_version_and_every_evidence_line() {
    let json: serde_json::Value = serde_json::from_str(&super::verify_json(&report())).unwrap();
    assert_eq!(json["format_version"], super::VERIFY_FORMAT_VERSION);
    assert_eq!(
        json["checks"][1]["evidence"],
        serde_json::json!([
            "orders partition 0: 5 record offset(s) behind (source last stable offset 10, replicated to 5)"
        ])
    );
    assert_eq!(
        json["checks"][1]["findings"][0],
        serde_json::json!({"level": "failure", "kind": "behind", "topic": "orders", "partition": 0,
            "lag": 5, "source_end": 10, "replicated_to": 5})
    );
    assert_eq!(
        json["checks"][0]["evidence"][0],
        "the source's ACLs could not be listed: denied"
    );
    let text = super::verify_text(&report(), Paint::plain());
    assert!(
        text.contains("• orders partition 0: 5 record offset(s) behind"),
        "{text}"
    );
}

/// The checked-in report schemas are what the code generates (`UPDATE_SCHEMAS=1` rewrites
/// them).
#[test]
fn the_report_schemas_are_up_to_date() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    for (file, schema) in super::report_schemas() {
        let path = dir.join(file);
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::write(&path, &schema).unwrap();
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == schema,
            "schemas/{file} is stale: run UPDATE_SCHEMAS=1 cargo test"
        );
    }
}

/// Each JSON view, of reports made by hand, is valid under its schema.
#[test]
fn the_json_views_are_valid_under_their_schemas() {
    use crate::apply::MigrationStatus;
    use crate::cutover::{Direction, Outcome, StepReport, StepResult};
    use crate::plan::{GroupState, GroupStatus};
    use crate::replicate::{PartitionStatus, Status};
    use crate::state::CutoverStep;
    let schemas: std::collections::BTreeMap<&str, serde_json::Value> = super::report_schemas()
        .into_iter()
        .map(|(file, s)| (file, serde_json::from_str(&s).unwrap()))
        .collect();
    let valid = |file: &str, json: &str| {
        let json: serde_json::Value = serde_json::from_str(json).unwrap();
        let validator = jsonschema::validator_for(&schemas[file]).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:?}\n{json:#}");
    };
    let status = MigrationStatus {
        status: Status {
            migration: "orders".into(),
            partitions: vec![PartitionStatus {
                topic: "orders".into(),
                partition: 0,
                source_end: 10,
                replicated_to: None,
                lag: 10,
                records: 0,
                bytes: 0,
                records_per_second: None,
            }],
            running: None,
            last_progress_at_ms: None,
        },
        groups: vec![GroupStatus {
            group: "billing".into(),
            state: GroupState::PendingReplication,
            partitions: 1,
            members_on_target: 0,
            detail: "orders partition 0: source offset 4 is not replicated yet".into(),
        }],
        cut_over_at_ms: Some(1),
    };
    valid("status.schema.json", &super::status_json(&status));
    valid("verify.schema.json", &super::verify_json(&report()));
    let mut outcome = Outcome {
        migration: "orders".into(),
        direction: Direction::Cutover,
        complete: false,
        steps: vec![StepReport {
            step: CutoverStep::Verified,
            label: "verify",
            result: StepResult::NotPassed,
            detail: "a check failed (see the report)".into(),
            evidence: vec![],
        }],
        point: None,
        switch: None,
        activity: None,
        report: Some(report()),
        dry_run: false,
    };
    valid("cutover.schema.json", &super::cutover_json(&outcome));
    outcome.direction = Direction::Rollback;
    outcome.report = None;
    completed(&mut outcome);
    let json = super::cutover_json(&outcome);
    valid("rollback.schema.json", &json);
    // The direction tells the two apart.
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let cutover = jsonschema::validator_for(&schemas["cutover.schema.json"]).unwrap();
    assert!(!cutover.is_valid(&json));
}

/// While `cutover` (or `rollback`) waits: how long without a write of the period required,
/// that the writes listed are within the period, and the cluster watched — or, with no
/// write, that groups still have members there.
#[test]
fn the_quiet_wait_says_what_it_counts_and_which_cluster() {
    use crate::cutover::{Activity, Consuming, Writing};
    let mut activity = Activity {
        cluster: "source",
        quiet_for_ms: 15_000,
        quiet_period_ms: 30_000,
        writing: vec![Writing {
            topic: "orders".into(),
            partition: 0,
            from: 10,
            to: 20,
            producers: Vec::new(),
        }],
        producers_unknown: None,
        consuming: Vec::new(),
    };
    assert_eq!(
        super::cutover::waiting_line(&activity),
        "      the source is not quiet yet: 15s without a write of the 30s required; written within the last 30s:"
    );
    activity.cluster = "target";
    activity.writing.clear();
    activity.consuming.push(Consuming {
        group: "billing".into(),
        members: Vec::new(),
    });
    assert_eq!(
        super::cutover::waiting_line(&activity),
        "      the target is not quiet yet: consumer groups still have members there:"
    );
}

#[test]
fn names_otherwise_on_the_target_are_listed() {
    let (_, source, target) = sample();
    let m = migration(
        "topics {\n  include = [\"^orders\"]\n  rename {\n    names = { \"orders.eu\" = \"eu-orders\" }\n  }\n}\n",
    );
    let text = plan_text(
        &plan::diff(&m, &source, &target, plan::Engine::Native),
        Paint::plain(),
    );
    assert!(text.contains("Named otherwise on the target:"), "{text}");
    assert!(text.contains("  topic orders.eu → eu-orders"), "{text}");
    assert!(text.contains("eu-orders"), "{text}");
}

/// The words of the `schema ids` check's findings; a subject is cluster-controlled text.
#[test]
fn schema_id_findings_name_topic_partition_offset_id_and_subject() {
    use crate::verify::Fact;
    let cases = [
        (
            Fact::SchemaIdMissing {
                topic: "orders".into(),
                partition: 1,
                target_offset: 11,
                field: "value",
                id: 77,
                records: 2,
                in_source: false,
            },
            "orders partition 1 target offset 11: the value references schema id 77, which the target's registry does not hold (nor does the source's); 2 record(s) of the partition reference it",
        ),
        (
            Fact::SchemaDiffers {
                id: 1,
                subject: "orders-value\u{1b}[2J".into(),
                fields: vec!["schema", "references"],
            },
            "schema id 1 (subject \"orders-value\\u{1b}[2J\"): the target's registry holds another schema under it (differing: schema, references)",
        ),
        (
            Fact::RegistryNotMigrated {
                topic: "_schemas".into(),
                ids: 3,
            },
            "the registry topic \"_schemas\" is not migrated (not selected by `topics`), and records reference 3 schema id(s): migrate it, or register the schemas on the target under the same ids",
        ),
        (
            Fact::SchemaIdRecords {
                id: 2,
                subject: Some("orders-key".into()),
                records: 20,
            },
            "schema id 2 (subject \"orders-key\"): 20 record(s)",
        ),
    ];
    for (fact, line) in cases {
        assert_eq!(super::fact_line(&fact), line);
    }
}
