//! The plan made from a survey built by hand: no cluster, the same plan the survey of real
//! clusters makes from the same answers.

use rdkafka::types::RDKafkaErrorCode;

use crate::cluster::native::AdminExtError;
use crate::cluster::Role;
use crate::state::Progress;
use crate::testing::{inventory, migration, topic};

use super::super::tests::sample;
use super::super::*;

/// A validate-only refusal of the target, as the admin call reports it.
fn refusal(subject: &str, message: &str) -> AdminExtError {
    AdminExtError {
        operation: "validating",
        subject: Some(subject.into()),
        code: RDKafkaErrorCode::InvalidConfig,
        message: message.into(),
    }
}

/// `sample`'s clusters, with `translated` offsets and the target's `answers`.
fn plan_with(
    m: &crate::config::Migration,
    progress: Option<&Progress>,
    translated: &Translated,
    answers: &TargetAnswers,
) -> Plan {
    let (_, source, target) = sample();
    let surveyed = Surveyed {
        source: &source,
        target: &target,
        engine_progress: progress,
        translated,
        answers,
    };
    make(m, &surveyed, Engine::Native)
}

fn left_out(plan: &Plan) -> Vec<&Warning> {
    plan.warnings
        .iter()
        .filter(|w| w.kind == WarningKind::ConfigLeftOut)
        .collect()
}

#[test]
fn with_nothing_found_the_plan_is_the_diff_with_its_group_warnings() {
    let (m, source, target) = sample();
    let plan = plan_with(&m, None, &Translated::new(), &TargetAnswers::default());
    let mut diffed = diff(&m, &source, &target, Engine::Native);
    warn_group_states(&mut diffed);
    assert_eq!(plan, diffed);
}

#[test]
fn a_refused_config_from_the_source_is_left_out_with_a_warning() {
    let (m, ..) = sample();
    let mut answers = TargetAnswers::default();
    answers.creations.insert(
        "orders.eu".into(),
        vec![refusal(
            "orders.eu",
            "Unknown topic config name: cleanup.policy.",
        )],
    );
    let plan = plan_with(&m, None, &Translated::new(), &answers);
    assert!(plan.blockers.is_empty(), "{:#?}", plan.blockers);
    match &plan.actions[2] {
        Action::CreateTopic { topic, configs, .. } => {
            assert_eq!(topic, "orders.eu");
            assert!(configs.is_empty(), "{configs:?}");
        }
        other => panic!("{other:?}"),
    }
    let warnings = left_out(&plan);
    assert_eq!(warnings.len(), 1, "{:#?}", plan.warnings);
    assert_eq!(warnings[0].subject, "topic \"orders.eu\"");
    assert!(
        warnings[0].message.contains("cleanup.policy=compact")
            && warnings[0]
                .message
                .contains("the target refuses it (Unknown topic config name: cleanup.policy.)"),
        "{}",
        warnings[0].message
    );
    // The warning follows the diff's own, in the order the target was asked.
    assert_eq!(plan.warnings.last(), Some(warnings[0]));
}

#[test]
fn a_config_change_whose_every_config_is_refused_is_dropped() {
    let m = migration("");
    let source = inventory(
        Role::Source,
        vec![topic("events", 1, &[("retention.ms", "1000")], 0)],
        vec![],
        vec![],
    );
    let target = inventory(
        Role::Target,
        vec![
            topic("events", 1, &[("retention.ms", "2000")], 0),
            super::super::tests::progress_topic(),
        ],
        vec![],
        vec![],
    );
    let changes = |plan: &Plan| {
        plan.actions
            .iter()
            .filter(|a| matches!(a, Action::UpdateTopicConfig { .. }))
            .count()
    };
    let nothing = TargetAnswers::default();
    let surveyed = Surveyed {
        source: &source,
        target: &target,
        engine_progress: None,
        translated: &Translated::new(),
        answers: &nothing,
    };
    assert_eq!(changes(&make(&m, &surveyed, Engine::Native)), 1);
    let mut answers = TargetAnswers::default();
    answers.config_changes.insert(
        "events".into(),
        vec![refusal("events", "retention.ms: not allowed here")],
    );
    let plan = make(
        &m,
        &Surveyed {
            answers: &answers,
            ..surveyed
        },
        Engine::Native,
    );
    assert!(plan.blockers.is_empty(), "{:#?}", plan.blockers);
    assert_eq!(changes(&plan), 0, "{:#?}", plan.actions);
    let warnings = left_out(&plan);
    assert_eq!(warnings.len(), 1, "{:#?}", plan.warnings);
    assert!(warnings[0].message.contains("retention.ms=1000"));
}

#[test]
fn a_refusal_of_an_override_or_of_nothing_named_is_a_blocker() {
    let m = migration(
        "topics {\n  include = [\"^orders\"]\n  config {\n    override = { \"retention.ms\" = \"5\" }\n  }\n}\n",
    );
    let mut answers = TargetAnswers::default();
    answers.creations.insert(
        "orders.eu".into(),
        vec![
            refusal("orders.eu", "Unknown topic config name: cleanup.policy"),
            refusal("orders.eu", "retention.ms must be at least 60000"),
            // Never read: a blocker ends the questions about the action.
            refusal("orders.eu", "unreachable"),
        ],
    );
    answers
        .config_changes
        .insert("orders".into(), vec![refusal("orders", "Policy violation")]);
    let plan = plan_with(&m, None, &Translated::new(), &answers);
    // cleanup.policy (from the source) is left out; retention.ms, the override, blocks.
    let warnings = left_out(&plan);
    assert_eq!(warnings.len(), 1, "{:#?}", plan.warnings);
    assert!(warnings[0].message.contains("cleanup.policy=compact"));
    let blockers: Vec<(&str, &str)> = plan
        .blockers
        .iter()
        .filter(|b| b.kind == BlockerKind::ConfigRejected)
        .map(|b| (b.subject.as_str(), b.reason.as_str()))
        .collect();
    assert_eq!(blockers.len(), 2, "{:#?}", plan.blockers);
    // In the order of the plan's actions: the config change of orders, then the creation.
    assert_eq!(blockers[0].0, "topic \"orders\"");
    assert_eq!(
        blockers[0].1,
        "the target refuses the config change: the broker says \"Policy violation\" \
         (InvalidConfig); if one of its configs is the cause, \
         `topics.config.exclude = [\"retention.ms\"]` (the ones concerned) leaves it out"
    );
    assert_eq!(blockers[1].0, "topic \"orders.eu\"");
    assert_eq!(
        blockers[1].1,
        "the target refuses to create it as planned: config retention.ms=5 from \
         `topics.config.override`: the broker says \"retention.ms must be at least 60000\" \
         (InvalidConfig); change or remove it there"
    );
    // The blocked creation keeps what was not left out.
    assert!(plan.actions.iter().any(|a| matches!(
        a,
        Action::CreateTopic { topic, configs, .. }
            if topic == "orders.eu" && configs.keys().collect::<Vec<_>>() == ["retention.ms"]
    )));
}

#[test]
fn translated_group_offsets_land_in_the_plan() {
    let (m, ..) = sample();
    let translated: Translated = [(("orders".to_string(), 0, 40), 44)].into();
    let plan = plan_with(&m, None, &translated, &TargetAnswers::default());
    let parts = &plan.group_offsets[0].partitions;
    assert_eq!(plan.group_offsets[0].group, "app");
    assert_eq!(
        (parts[0].source_offset, parts[0].target),
        (40, OffsetTarget::Translated { offset: 44 })
    );
    // Not translated yet: its records are not all replicated.
    assert_eq!(
        (parts[1].source_offset, parts[1].target),
        (7, OffsetTarget::PendingReplication)
    );
    let s = plan.summary();
    assert_eq!((s.offsets_to_sync, s.offsets_pending), (1, 1));
    assert!(plan.group_offsets[0].cut_over.is_none());
}

#[test]
fn a_group_the_progress_recorded_as_cut_over_is_marked() {
    let (m, ..) = sample();
    let mut progress = Progress::default();
    progress
        .cut_over
        .insert("app".into(), "2 member(s) on the target".into());
    let translated: Translated = [(("orders".to_string(), 0, 40), 44)].into();
    let plan = plan_with(&m, Some(&progress), &translated, &TargetAnswers::default());
    assert_eq!(
        plan.group_offsets[0].cut_over.as_deref(),
        Some("recorded as cut over by an earlier apply (2 member(s) on the target)")
    );
    let s = plan.summary();
    assert_eq!((s.offsets_to_sync, s.offsets_pending), (0, 0));
}
