//! `destroy`: what it removes from the target and what it refuses, with why — as text, or as
//! JSON.

use std::fmt::Write;

use crate::ops::destroy::Destroyed;
use crate::plan::{DestroyPlan, Removal};

use super::Paint;

/// The plan of a `destroy`, before it is confirmed.
pub fn destroy_plan_text(plan: &DestroyPlan, paint: Paint) -> String {
    let mut out = String::new();
    let removed: Vec<_> = plan
        .internal
        .iter()
        .chain(&plan.topics)
        .filter(|r| r.remove)
        .collect();
    if removed.is_empty() {
        let _ = writeln!(
            out,
            "Nothing of migration \"{}\" to remove from the target.",
            plan.migration
        );
    } else {
        let _ = writeln!(out, "destroy will remove these topics from the target:");
        lines(&mut out, &paint.remove("-"), removed);
    }
    let refused = plan.refused();
    if !refused.is_empty() {
        let _ = writeln!(out, "destroy refuses to remove (left on the target):");
        lines(&mut out, &paint.blocker("!"), refused);
    }
    out
}

/// A line per topic: `mark`, the topic and why.
fn lines<'a>(out: &mut String, mark: &str, removals: impl IntoIterator<Item = &'a Removal>) {
    for r in removals {
        let _ = writeln!(out, "  {mark} topic \"{}\": {}", r.topic, r.reason);
    }
}

/// The last line of a `destroy`.
pub fn destroyed_line(destroyed: &Destroyed) -> String {
    let n = destroyed.plan.removed().len();
    if destroyed.removed {
        format!("Removed {n} topic(s) from the target.")
    } else if n == 0 {
        "Nothing removed.".to_string()
    } else {
        "Destroy cancelled: nothing removed.".to_string()
    }
}

/// The outcome as JSON (with `format_version`).
pub fn destroy_json(destroyed: &Destroyed) -> String {
    super::json::versioned(super::json::DESTROY_FORMAT_VERSION, destroyed)
}
