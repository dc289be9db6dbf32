//! The Connect engine's output: how the deployed connector configs differ from the wanted
//! ones (`plan --engine connect`), and the steps of `apply --engine connect`.

use std::fmt::Write;

use similar::ChangeTag;

use crate::connect::{config_diff, ConnectorDiff, Step};

use super::Paint;

/// The connectors of a Connect cluster at `url`, each with what would change.
pub fn connector_diffs(url: &str, diffs: &[ConnectorDiff], paint: Paint) -> String {
    let mut out = format!("\nMirrorMaker 2 connectors on {url}:\n");
    for d in diffs {
        let _ = match &d.deployed {
            None => writeln!(
                out,
                "  {} connector \"{}\" will be created ({} settings)",
                paint.create("+"),
                d.name,
                d.wanted.len()
            ),
            Some(deployed) if deployed == &d.wanted => {
                writeln!(out, "    connector \"{}\": no changes", d.name)
            }
            Some(deployed) => {
                let _ = writeln!(
                    out,
                    "  {} connector \"{}\" will be updated",
                    paint.update("~"),
                    d.name
                );
                for (tag, line) in config_diff(deployed, &d.wanted) {
                    let _ = match tag {
                        ChangeTag::Delete => {
                            writeln!(out, "        {}", paint.remove(&format!("- {line}")))
                        }
                        _ => writeln!(out, "        {}", paint.create(&format!("+ {line}"))),
                    };
                }
                Ok(())
            }
        };
    }
    out
}

/// The line a step of `apply --engine connect` is shown as.
pub fn connect_step(step: &Step, url: &str, paint: Paint) -> String {
    match step {
        Step::Configured { connector } => {
            format!(
                "{} connector \"{connector}\" configured on {url}",
                paint.create("✓")
            )
        }
        Step::Running { connector, tasks } => format!(
            "{} connector \"{connector}\" RUNNING with {tasks} task(s)",
            paint.create("✓")
        ),
        Step::CaughtUp { partitions } => format!(
            "{} MirrorMaker 2 caught up: {partitions} partition(s), lag 0.",
            paint.create("✓")
        ),
    }
}
