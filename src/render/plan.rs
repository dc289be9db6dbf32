//! The plan, as a person reads it (terraform-style) and as a program reads it (JSON).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use similar::{ChangeTag, TextDiff};

use crate::plan::{Action, ActionKind, ConfigChange, OffsetTarget, Plan};

use super::Paint;

/// The plan as pretty JSON: the public format, with `format_version`.
pub fn plan_json(plan: &Plan) -> String {
    crate::quote::json_pretty(plan).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The ACLs as IAM policies, for a target with IAM access control: one block per principal.
fn iam_policies_text(out: &mut String, plan: &Plan) {
    let _ = writeln!(
        out,
        "The target uses IAM access control: the migrated ACLs as IAM policies \
         (kafka-migrate export iam-policy writes them):\n"
    );
    for policy in &plan.iam_policies {
        let _ = writeln!(
            out,
            "  principal \"{}\"",
            crate::quote::terminal(&policy.principal)
        );
        for statement in &policy.document.statements {
            let _ = writeln!(
                out,
                "    {:?} {}",
                statement.effect,
                statement.actions.join(", ")
            );
            for resource in &statement.resources {
                let _ = writeln!(out, "      on {resource}");
            }
        }
        for note in &policy.not_translated {
            let _ = writeln!(out, "    not translated: {note}");
        }
        out.push('\n');
    }
}

/// The plan as text: one block per action, blockers, group offsets, warnings, a summary line.
pub fn plan_text(plan: &Plan, paint: Paint) -> String {
    let mut out = String::new();
    if plan.actions.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint.bold("No changes. The target's topics, configs and ACLs match the migration.")
        );
    } else {
        let _ = writeln!(
            out,
            "kafka-migrate will make these changes on the target:\n"
        );
        let mut previous: Option<&str> = None;
        for action in &plan.actions {
            // Changes to one existing topic share its header.
            let updated = match action {
                Action::CreatePartitions { topic, .. }
                | Action::UpdateTopicConfig { topic, .. } => Some(topic.as_str()),
                _ => None,
            };
            if let Some(topic) = updated {
                if previous == Some(topic) {
                    out.pop();
                } else {
                    let _ = writeln!(out, "  {} topic \"{topic}\"", paint.update("~"));
                }
            }
            previous = updated;
            action_text(&mut out, action, paint);
            out.push('\n');
        }
    }
    if !plan.iam_policies.is_empty() {
        iam_policies_text(&mut out, plan);
    }
    if !plan.blockers.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint.blocker("Blockers (apply refuses this plan):")
        );
        for b in &plan.blockers {
            let _ = writeln!(out, "  {} {}: {}", paint.blocker("!"), b.subject, b.reason);
        }
        out.push('\n');
    }
    if !plan.renamed.is_empty() {
        let _ = writeln!(out, "Named otherwise on the target:");
        for r in &plan.renamed {
            let _ = writeln!(
                out,
                "  {} {} → {}",
                r.kind,
                crate::quote::terminal(&r.source),
                crate::quote::terminal(&r.target)
            );
        }
        out.push('\n');
    }
    if !plan.group_offsets.is_empty() {
        let _ = writeln!(out, "Consumer group offsets (source → target):");
        let _ = writeln!(out, "{}\n", group_table(plan));
    }
    super::units::units_text(&mut out, &plan.units, paint);
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "Warnings:");
        for w in &plan.warnings {
            let _ = writeln!(out, "  - {}: {}", w.subject, w.message);
        }
        out.push('\n');
    }
    let s = plan.summary();
    let _ = write!(
        out,
        "{} {} to create, {} to update, {} blocked.",
        paint.bold("Plan:"),
        s.create,
        s.update,
        s.blocked
    );
    if s.offsets_to_sync + s.offsets_pending > 0 {
        let _ = write!(
            out,
            " Group offsets: {} to sync, {} pending replication.",
            s.offsets_to_sync, s.offsets_pending
        );
    }
    out.push('\n');
    out
}

fn action_text(out: &mut String, action: &Action, paint: Paint) {
    match action {
        Action::CreateTopic {
            topic,
            partitions,
            replication_factor,
            configs,
        } => {
            let _ = writeln!(out, "  {} topic \"{topic}\"", paint.create("+"));
            let _ = writeln!(out, "      partitions:         {partitions}");
            let _ = writeln!(out, "      replication_factor: {replication_factor}");
            if !configs.is_empty() {
                let _ = writeln!(out, "      config:");
                config_diff(out, &BTreeMap::new(), configs, paint);
            }
        }
        // The `~ topic` header is written by the caller, once per topic.
        Action::CreatePartitions { before, after, .. } => {
            let _ = writeln!(out, "      partitions: {before} → {after}");
        }
        Action::UpdateTopicConfig { changes, .. } => {
            let _ = writeln!(out, "      config:");
            let (before, after) = sides(changes);
            config_diff(out, &before, &after, paint);
        }
        Action::CreateAcl {
            binding,
            source_principal,
        } => {
            let _ = write!(out, "  {} acl {binding}", paint.create("+"));
            if let Some(from) = source_principal {
                let _ = write!(out, " {}", paint.dim(&format!("(mapped from {from})")));
            }
            out.push('\n');
        }
        Action::SetClientQuotas { entity, changes } => {
            let sign = match action.kind() {
                ActionKind::Create => paint.create("+"),
                ActionKind::Update => paint.update("~"),
            };
            let _ = writeln!(out, "  {sign} client quotas of {entity}");
            let side = |v: Option<f64>| v.map(|v| v.to_string());
            let (before, after): (BTreeMap<_, _>, BTreeMap<_, _>) = (
                changes
                    .iter()
                    .filter_map(|c| Some((c.key.clone(), side(c.before)?)))
                    .collect(),
                changes
                    .iter()
                    .filter_map(|c| Some((c.key.clone(), side(c.after)?)))
                    .collect(),
            );
            config_diff(out, &before, &after, paint);
        }
    }
}

/// The configs a change touches, before and after, for a line diff.
fn sides(changes: &[ConfigChange]) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut before = BTreeMap::new();
    let mut after = BTreeMap::new();
    for c in changes {
        if let Some(v) = &c.before {
            before.insert(c.key.clone(), v.clone());
        }
        if let Some(v) = &c.after {
            after.insert(c.key.clone(), v.clone());
        }
    }
    (before, after)
}

/// A unified line diff of two config maps, `key = "value"` per line.
fn config_diff(
    out: &mut String,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    paint: Paint,
) {
    let lines = |m: &BTreeMap<String, String>| {
        m.iter()
            .map(|(k, v)| format!("{k} = \"{v}\"\n"))
            .collect::<String>()
    };
    let (old, new) = (lines(before), lines(after));
    let diff = TextDiff::from_lines(&old, &new);
    for change in diff.iter_all_changes() {
        let line = change.value().trim_end();
        let _ = match change.tag() {
            ChangeTag::Delete => writeln!(out, "        {}", paint.remove(&format!("- {line}"))),
            ChangeTag::Insert => writeln!(out, "        {}", paint.create(&format!("+ {line}"))),
            ChangeTag::Equal => writeln!(out, "          {line}"),
        };
    }
}

fn group_table(plan: &Plan) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header([
        "group",
        "topic",
        "partition",
        "source offset",
        "target now",
        "target offset",
    ]);
    for group in &plan.group_offsets {
        for p in &group.partitions {
            let target = match p.target {
                _ if group.cut_over.is_some() => "not synced (cut over)".to_string(),
                OffsetTarget::Translated { offset } => offset.to_string(),
                OffsetTarget::PendingReplication => "pending replication".to_string(),
            };
            let current = p
                .target_current
                .map_or_else(|| "-".to_string(), |o| o.to_string());
            table.add_row([
                crate::quote::terminal(&group.group).into_owned(),
                p.topic.clone(),
                p.partition.to_string(),
                p.source_offset.to_string(),
                current,
                target,
            ]);
        }
    }
    table
}

/// Shows a plan as `plan` makes it: as text or JSON on standard output.
pub struct PlanView {
    pub json: bool,
}

/// A saved plan as `show` prints it: which migration it is for, the plan as `plan` showed it,
/// and how to apply it.
pub fn saved_plan_text(plan: &Plan, path: &std::path::Path, paint: Paint) -> String {
    let mut out = format!(
        "{} is a plan for migration \"{}\".\n\n",
        path.display(),
        plan.migration
    );
    out.push_str(&plan_text(plan, paint));
    let _ = writeln!(
        out,
        "\nApply it with: kafka-migrate apply {} (refused if the migration file or the clusters changed since it was made).",
        path.display()
    );
    out
}

impl crate::ops::plan::Observer for PlanView {
    fn planned(&mut self, plan: &Plan) {
        if self.json {
            println!("{}", plan_json(plan));
        } else {
            print!(
                "{}",
                super::stdout_text(&plan_text(plan, Paint::for_stdout()))
            );
        }
    }

    fn saved(&mut self, path: &std::path::Path) {
        if !self.json {
            println!(
                "\nSaved the plan to {}. Apply it with: kafka-migrate apply {}",
                path.display(),
                path.display()
            );
        }
    }
}
