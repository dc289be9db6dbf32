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
