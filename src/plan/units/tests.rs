use std::collections::BTreeMap;

use crate::cluster::inventory::{Group, Inventory, Role};
use crate::cluster::residents::Residents;
use crate::plan::{diff, Action, Engine, WarningKind};
use crate::testing::{inventory, migration, topic};

use super::*;

const CHANGELOG: &str = "wc-counts-changelog";
const REPARTITION: &str = "wc-counts-repartition";

fn group(offsets: &[&str]) -> Group {
    Group {
        state: "Empty".into(),
        members: 0,
        offsets: offsets
            .iter()
            .map(|t| (t.to_string(), BTreeMap::from([(0, 5)])))
            .collect(),
    }
}

fn keys(list: &[&str]) -> Vec<String> {
    list.iter().map(|k| k.to_string()).collect()
}

/// A source with a word count (group "wc" reading "words" and its repartition topic), a
/// Connect cluster (group "connect-cluster", its three topics), `_schemas`, and "lines".
fn source() -> Inventory {
    let names = [
        "words",
        "counts",
        "lines",
        CHANGELOG,
        REPARTITION,
        "connect-configs",
        "connect-offsets",
        "connect-status",
        "_schemas",
    ];
    let mut source = inventory(
        Role::Source,
        names.iter().map(|n| topic(n, 1, &[], 10)).collect(),
        vec![],
        vec![("wc", group(&["words", REPARTITION]))],
    );
    source.residents = Some(Residents {
        topics: names.iter().map(|n| n.to_string()).collect(),
        groups: [
            ("wc".to_string(), "consumer".to_string()),
            ("connect-cluster".to_string(), "connect".to_string()),
        ]
        .into(),
        keys: [
            (
                "connect-configs".to_string(),
                keys(&[
                    "connector-file",
                    "task-file-0",
                    "commit-file",
                    "target-state-file",
                ]),
            ),
            (
                "connect-offsets".to_string(),
                keys(&[r#"["file",{"filename":"/tmp/in.txt"}]"#]),
            ),
            (
                "connect-status".to_string(),
                keys(&["status-connector-file", "status-task-file-0"]),
            ),
            (
                "_schemas".to_string(),
                keys(&[r#"{"keytype":"SCHEMA","subject":"words-value","version":1,"magic":1}"#]),
            ),
        ]
        .into(),
        framed: ["words".to_string()].into(),
    });
    source
}

fn target() -> Inventory {
    inventory(Role::Target, vec![], vec![], vec![])
}

fn created(plan: &crate::plan::Plan) -> Vec<&str> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateTopic { topic, .. } => Some(topic.as_str()),
            _ => None,
        })
        .collect()
}

fn find(units: &[Unit], kind: UnitKind) -> &Unit {
    units.iter().find(|u| u.kind == kind).unwrap()
}

#[test]
fn an_application_whose_input_moves_takes_its_internal_topics_along() {
    let m = migration(
        "topics { names = [\"words\", \"counts\", \"lines\"] }\nconsumer_groups { include = [\"^wc$\", \"^connect-cluster$\"] }",
    );
    let plan = diff(&m, &source(), &target(), Engine::Native);
    let wc = find(&plan.units, UnitKind::StreamsApplication);
    assert_eq!(wc.name, "wc");
    assert!(wc.moves);
    assert_eq!(wc.group_carried, Some(true));
    let carriage: Vec<(&str, TopicRole, Carriage)> = wc
        .topics
        .iter()
        .map(|t| (t.topic.as_str(), t.role, t.carriage))
        .collect();
    assert_eq!(
        carriage,
        vec![
            (CHANGELOG, TopicRole::Changelog, Carriage::Added),
            (REPARTITION, TopicRole::Repartition, Carriage::Added)
        ]
    );
    let connect = find(&plan.units, UnitKind::ConnectCluster);
    assert_eq!(connect.name, "connect-cluster");
    assert!(connect.moves);
    let roles: Vec<(TopicRole, Carriage)> = connect
        .topics
        .iter()
        .map(|t| (t.role, t.carriage))
        .collect();
    assert_eq!(
        roles,
        vec![
            (TopicRole::ConnectConfigs, Carriage::Added),
            (TopicRole::ConnectOffsets, Carriage::Added),
            (TopicRole::ConnectStatus, Carriage::Added)
        ]
    );
    // The plan creates every topic of both units, and translates the group's offsets on the
    // repartition topic too.
    let made = created(&plan);
    for t in [
        CHANGELOG,
        REPARTITION,
        "connect-configs",
        "connect-offsets",
        "connect-status",
    ] {
        assert!(made.contains(&t), "{t} is not created: {made:?}");
    }
    assert!(!made.contains(&"_schemas"));
    let offsets = &plan.group_offsets[0];
    assert!(offsets.partitions.iter().any(|p| p.topic == REPARTITION));
    // The registry stays, and the plan says what that does to "words", whose records carry
    // schema ids.
    let registry = find(&plan.units, UnitKind::SchemaRegistry);
    assert!(!registry.moves);
    let warned: Vec<&str> = plan
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::UnitInPart)
        .map(|w| w.subject.as_str())
        .collect();
    assert_eq!(warned, vec!["schema registry \"_schemas\""]);
}

#[test]
fn an_excluded_internal_topic_is_left_behind_with_what_that_does() {
    let m = migration(
        "topics {\n  names = [\"words\"]\n  exclude = [\"-changelog$\"]\n}\nconsumer_groups { include = [\"^wc$\"] }",
    );
    let plan = diff(&m, &source(), &target(), Engine::Native);
    let wc = find(&plan.units, UnitKind::StreamsApplication);
    assert_eq!(wc.topics[0].carriage, Carriage::Excluded);
    assert!(!created(&plan).contains(&CHANGELOG));
    let warning = plan
        .warnings
        .iter()
        .find(|w| w.subject == "streams application \"wc\"")
        .unwrap();
    assert!(warning.message.contains(CHANGELOG), "{}", warning.message);
    assert!(
        warning.message.contains("restored empty"),
        "{}",
        warning.message
    );
}

#[test]
fn an_application_whose_group_stays_is_warned_about() {
    let m = migration(&format!(
        "topics {{ names = [\"words\", \"{CHANGELOG}\"] }}\nconsumer_groups {{ exclude = [\"^wc$\"] }}"
    ));
    let plan = diff(&m, &source(), &target(), Engine::Native);
    let wc = find(&plan.units, UnitKind::StreamsApplication);
    assert!(wc.moves);
    assert_eq!(wc.group_carried, Some(false));
    let warning = plan
        .warnings
        .iter()
        .find(|w| w.subject == "streams application \"wc\"")
        .unwrap();
    assert!(warning.message.contains("group wc"), "{}", warning.message);
}

#[test]
fn units_whose_work_is_not_selected_stay() {
    // Every group is selected, but the application reads nothing the file selects.
    let m = migration("topics { names = [\"counts\"] }");
    assert!(recognise(&m, &source()).iter().all(|u| !u.moves));
    // The plan shows none of them: they are none of the migration's business.
    let plan = diff(&m, &source(), &target(), Engine::Native);
    assert!(plan.units.is_empty(), "{:?}", plan.units);
    assert_eq!(created(&plan).len(), 2, "{:?}", created(&plan));
    assert!(plan
        .warnings
        .iter()
        .all(|w| w.kind != WarningKind::UnitInPart));
}

#[test]
fn a_source_not_read_for_residents_has_no_units() {
    let mut s = source();
    s.residents = None;
    assert!(recognise(&migration(""), &s).is_empty());
}

#[test]
fn the_longest_group_that_names_a_topic_owns_it() {
    let mut s = source();
    let residents = s.residents.as_mut().unwrap();
    residents.topics.insert("wc-counts-x-changelog".into());
    residents
        .groups
        .insert("wc-counts".into(), "consumer".into());
    let units = recognise(&migration(""), &s);
    let owners: Vec<(&str, Vec<&str>)> = units
        .iter()
        .filter(|u| u.kind == UnitKind::StreamsApplication)
        .map(|u| {
            (
                u.name.as_str(),
                u.topics.iter().map(|t| t.topic.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        owners,
        vec![
            ("wc", vec![CHANGELOG, REPARTITION]),
            ("wc-counts", vec!["wc-counts-x-changelog"])
        ]
    );
}

#[test]
fn the_connect_engine_carries_only_what_the_file_selects_and_says_so() {
    let m = migration("topics { names = [\"words\"] }\nconsumer_groups { include = [\"^wc$\"] }");
    let plan = diff(&m, &source(), &target(), Engine::Connect);
    assert!(!created(&plan).contains(&CHANGELOG), "{:?}", created(&plan));
    let warning = plan
        .warnings
        .iter()
        .find(|w| w.subject == "connect engine")
        .unwrap();
    assert!(warning.message.contains(CHANGELOG), "{}", warning.message);
    assert!(warning.message.contains(REPARTITION), "{}", warning.message);
}
