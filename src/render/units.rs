//! The applications a plan recognised on the source (`plan::units`), as text: each unit,
//! whether it moves, and each of its topics with how it moves.

use std::fmt::Write as _;

use crate::plan::units::{Carriage, Unit};
use crate::quote::terminal;

use super::Paint;

/// The units section of the plan text; empty when there are none.
pub fn units_text(out: &mut String, units: &[Unit], paint: Paint) {
    if units.is_empty() {
        return;
    }
    let _ = writeln!(out, "Applications on the source:");
    for unit in units {
        let group = match (&unit.group, unit.group_carried) {
            (Some(g), Some(true)) => format!(", group \"{}\" carried", terminal(g)),
            (Some(g), _) => format!(", group \"{}\" not carried", terminal(g)),
            (None, _) => String::new(),
        };
        let moves = if unit.moves {
            "moves with the migration"
        } else {
            "stays on the source"
        };
        let _ = writeln!(
            out,
            "  {} \"{}\": {moves}{group}",
            unit.kind.describe(),
            terminal(&unit.name)
        );
        for topic in &unit.topics {
            let (sign, how) = match topic.carriage {
                Carriage::Selected => (paint.update("="), "selected by the file"),
                Carriage::Added => (paint.create("+"), "added: carried with its application"),
                Carriage::Excluded => (paint.blocker("!"), "left behind: excluded by the file"),
                Carriage::Stays => (" ".to_string(), "stays"),
            };
            let _ = writeln!(
                out,
                "    {sign} {:<12} {} ({how})",
                topic.role.describe(),
                terminal(&topic.topic)
            );
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::units::{TopicRole, UnitKind, UnitTopic};

    #[test]
    fn each_unit_shows_how_each_of_its_topics_moves() {
        let topic = |topic: &str, role, carriage| UnitTopic {
            topic: topic.into(),
            role,
            carriage,
        };
        let units = vec![
            Unit {
                kind: UnitKind::StreamsApplication,
                name: "wc".into(),
                group: Some("wc".into()),
                group_carried: Some(true),
                topics: vec![
                    topic(
                        "wc-counts-changelog",
                        TopicRole::Changelog,
                        Carriage::Excluded,
                    ),
                    topic(
                        "wc-words-repartition",
                        TopicRole::Repartition,
                        Carriage::Added,
                    ),
                ],
                moves: true,
            },
            Unit {
                kind: UnitKind::SchemaRegistry,
                name: "_schemas".into(),
                group: None,
                group_carried: None,
                topics: vec![topic("_schemas", TopicRole::Schemas, Carriage::Stays)],
                moves: false,
            },
        ];
        let mut out = String::new();
        units_text(&mut out, &units, Paint::plain());
        assert_eq!(
            out,
            "Applications on the source:
  streams application \"wc\": moves with the migration, group \"wc\" carried
    ! changelog    wc-counts-changelog (left behind: excluded by the file)
    + repartition  wc-words-repartition (added: carried with its application)
  schema registry \"_schemas\": stays on the source
      schemas      _schemas (stays)

"
        );
    }
}
