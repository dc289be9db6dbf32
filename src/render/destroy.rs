//! `destroy`: what it removes from the target and what it refuses, with why — as text, or as
//! JSON.

use std::fmt::Write;

use crate::ops::destroy::Destroyed;
use crate::plan::DestroyPlan;

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
        for r in removed {
            let _ = writeln!(
                out,
                "  {} topic \"{}\": {}",
                paint.remove("-"),
                r.topic,
                r.reason
            );
        }
    }
    let refused = plan.refused();
    if !refused.is_empty() {
        let _ = writeln!(out, "destroy refuses to remove (left on the target):");
        for r in refused {
            let _ = writeln!(
                out,
                "  {} topic \"{}\": {}",
                paint.blocker("!"),
                r.topic,
                r.reason
            );
        }
    }
    out
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
