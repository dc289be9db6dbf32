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
    use crate::cutover::{Direction, Outcome, StepReport, StepResult, Switch};
    use crate::state::{CutoverPoint, CutoverStep, PointPartition};
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
    };
    let text = super::cutover_text(&outcome, Paint::plain());
    assert!(
        text.contains("NOT CUT OVER: migration \"orders\" stopped at a gate; run cutover again"),
        "{text}"
    );
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
