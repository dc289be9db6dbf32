//! The applications living on a cluster whose state is in its topics, as the cluster shows
//! them: Kafka Streams applications (`<application.id>-…-changelog` / `-repartition` topics
//! after the group of that id), Kafka Connect clusters (config, offset and status topics told
//! by their records' keys, with the workers' `connect` group), schema registries (`_schemas`,
//! or a compacted topic keyed like it). Plain data and pure recognition; the survey reads
//! [`Residents`], `plan::units` decides what of each moves, `init` lists them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// What the survey reads of a whole cluster to recognise the applications whose state lives
/// in it (Kafka Streams applications, Kafka Connect clusters, schema registries); `plan`
/// recognises them from this. Plain data, no I/O.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Residents {
    /// Every topic the cluster lists, Kafka's own (`__`) left out.
    pub topics: BTreeSet<String>,
    /// Every consumer group, with its protocol type (`consumer`, `connect`, or empty).
    pub groups: BTreeMap<String, String>,
    /// The keys (as text, lossy) of the first records of each compacted topic read, by topic.
    pub keys: BTreeMap<String, Vec<String>>,
    /// Topics whose first records' values are framed with a schema registry's schema id (a
    /// zero byte, then the id in four).
    #[serde(default)]
    pub framed: BTreeSet<String>,
}

/// One application recognised on a cluster: its kind, name, group and topics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub kind: UnitKind,
    /// The Streams application.id, the Connect workers' group (or config topic when no group
    /// was found), or the registry's topic.
    pub name: String,
    /// A Streams application's group (its application.id), a Connect cluster's workers'.
    pub group: Option<String>,
    pub topics: Vec<(String, TopicRole)>,
}

/// The applications `residents` shows.
pub fn recognise(residents: &Residents) -> Vec<Resident> {
    let mut found = streams_applications(residents);
    found.extend(connect_clusters(residents));
    found.extend(registries(residents));
    found
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    StreamsApplication,
    ConnectCluster,
    SchemaRegistry,
}

impl UnitKind {
    /// How the plan names the kind.
    pub fn describe(self) -> &'static str {
        match self {
            UnitKind::StreamsApplication => "streams application",
            UnitKind::ConnectCluster => "connect cluster",
            UnitKind::SchemaRegistry => "schema registry",
        }
    }
}

/// What a topic is to its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TopicRole {
    /// A Streams state store's changelog.
    Changelog,
    /// A Streams repartition topic (records between sub-topologies).
    Repartition,
    /// A Streams foreign-key join's subscription topic.
    Subscription,
    /// Connect's connector and task configs.
    ConnectConfigs,
    /// Connect's source connector offsets.
    ConnectOffsets,
    /// Connect's connector and task status.
    ConnectStatus,
    /// A schema registry's schemas.
    Schemas,
}

impl TopicRole {
    pub fn describe(self) -> &'static str {
        match self {
            TopicRole::Changelog => "changelog",
            TopicRole::Repartition => "repartition",
            TopicRole::Subscription => "subscription",
            TopicRole::ConnectConfigs => "configs",
            TopicRole::ConnectOffsets => "offsets",
            TopicRole::ConnectStatus => "status",
            TopicRole::Schemas => "schemas",
        }
    }

    /// What the unit does on the target without this topic.
    pub fn consequence(self) -> &'static str {
        match self {
            TopicRole::Changelog => "the store it backs is restored empty on the target",
            TopicRole::Repartition | TopicRole::Subscription => {
                "records in flight inside the application are lost and its group starts over on it"
            }
            TopicRole::ConnectConfigs => "the workers on the target know none of the connectors",
            TopicRole::ConnectOffsets => {
                "source connectors start over as if new (lines, rows or records read again)"
            }
            TopicRole::ConnectStatus => {
                "the workers on the target lose the connectors' last states"
            }
            TopicRole::Schemas => {
                "records that carry schema ids cannot be decoded by a registry on the target"
            }
        }
    }
}

/// What a Streams internal topic is, by its name's end.
pub fn streams_role(topic: &str) -> Option<TopicRole> {
    if topic.ends_with("-changelog") {
        Some(TopicRole::Changelog)
    } else if topic.ends_with("-repartition") {
        Some(TopicRole::Repartition)
    } else if topic.ends_with("-subscription-registration-topic")
        || topic.ends_with("-subscription-response-topic")
    {
        Some(TopicRole::Subscription)
    } else {
        None
    }
}

/// What a compacted topic is, by its first records' keys: all of them must fit.
pub fn keys_role(keys: &[String]) -> Option<TopicRole> {
    if keys.is_empty() {
        return None;
    }
    let all = |f: &dyn Fn(&str) -> bool| keys.iter().all(|k| f(k));
    let config_key = |k: &str| {
        config_connector(k).is_some()
            || k == "session-key"
            || CONFIG_KEY_PREFIXES.iter().any(|p| k.starts_with(p))
    };
    if all(&config_key) && keys.iter().any(|k| config_connector(k).is_some()) {
        Some(TopicRole::ConnectConfigs)
    } else if all(&|k| k.starts_with("status-")) {
        Some(TopicRole::ConnectStatus)
    } else if all(&|k| offsets_connector(k).is_some()) {
        Some(TopicRole::ConnectOffsets)
    } else if all(&|k| {
        serde_json::from_str::<serde_json::Value>(k)
            .is_ok_and(|v| v.get("keytype").is_some_and(|t| t.is_string()))
    }) {
        Some(TopicRole::Schemas)
    } else {
        None
    }
}

/// Keys of Connect's config topic that name no connector of their own: restart requests,
/// exactly-once task counts, cluster-wide logger levels.
const CONFIG_KEY_PREFIXES: [&str; 3] = ["restart-", "task-count-record-", "logger-cluster-"];

/// The connector a key of Connect's config topic is about.
fn config_connector(key: &str) -> Option<&str> {
    if let Some(rest) = key.strip_prefix("connector-") {
        return Some(rest);
    }
    if let Some(rest) = key.strip_prefix("target-state-") {
        return Some(rest);
    }
    if let Some(rest) = key.strip_prefix("commit-") {
        return Some(rest);
    }
    if let Some(rest) = key.strip_prefix("task-") {
        let (name, n) = rest.rsplit_once('-')?;
        return n.parse::<u32>().ok().map(|_| name);
    }
    None
}

/// The connector of a key of Connect's offsets topic: `["<connector>", {partition}]`.
fn offsets_connector(key: &str) -> Option<String> {
    match serde_json::from_str::<serde_json::Value>(key).ok()? {
        serde_json::Value::Array(parts) if parts.len() == 2 && parts[1].is_object() => {
            parts[0].as_str().map(str::to_string)
        }
        _ => None,
    }
}

/// The connectors a Connect topic's keys name.
fn connectors(role: TopicRole, keys: &[String]) -> BTreeSet<String> {
    keys.iter()
        .filter_map(|k| match role {
            TopicRole::ConnectConfigs => config_connector(k).map(str::to_string),
            TopicRole::ConnectOffsets => offsets_connector(k),
            TopicRole::ConnectStatus => k
                .strip_prefix("status-connector-")
                .or_else(|| {
                    k.strip_prefix("status-task-")
                        .and_then(|t| Some(t.rsplit_once('-')?.0))
                })
                .map(str::to_string),
            _ => None,
        })
        .collect()
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

/// Streams applications: internal topics named `<group>-<name>-…` after a group (the longest
/// that fits), the group being the application.id.
fn streams_applications(residents: &Residents) -> Vec<Resident> {
    let mut apps: BTreeMap<&str, Vec<(String, TopicRole)>> = BTreeMap::new();
    for topic in &residents.topics {
        let Some(role) = streams_role(topic) else {
            continue;
        };
        let app = residents
            .groups
            .iter()
            .filter(|(id, protocol)| {
                // `<application.id>-<name>-changelog`: a name stands between the two.
                protocol.as_str() != "connect"
                    && topic
                        .strip_prefix(id.as_str())
                        .and_then(|rest| rest.strip_prefix('-'))
                        .is_some_and(|rest| streams_role(rest).is_some())
            })
            .map(|(id, _)| id.as_str())
            .max_by_key(|id| id.len());
        if let Some(app) = app {
            apps.entry(app).or_default().push((topic.clone(), role));
        }
    }
    apps.into_iter()
        .map(|(app, topics)| Resident {
            kind: UnitKind::StreamsApplication,
            name: app.to_string(),
            group: Some(app.to_string()),
            topics,
        })
        .collect()
}

/// Connect clusters: one per config topic, with the offset and status topics that name the
/// same connectors (or, failing that, share most of its name), and the `connect` group whose
/// id shares most of its name.
fn connect_clusters(residents: &Residents) -> Vec<Resident> {
    let roles: BTreeMap<&String, TopicRole> = residents
        .keys
        .iter()
        .filter_map(|(t, keys)| Some((t, keys_role(keys)?)))
        .collect();
    let of = |wanted: TopicRole| -> Vec<&String> {
        roles
            .iter()
            .filter(|(_, r)| **r == wanted)
            .map(|(t, _)| *t)
            .collect()
    };
    let configs = of(TopicRole::ConnectConfigs);
    if configs.is_empty() {
        return Vec::new();
    }
    let named = |t: &String, role| connectors(role, &residents.keys[t]);
    let mut members: BTreeMap<&String, Vec<(String, TopicRole)>> = configs
        .iter()
        .map(|c| (*c, vec![((*c).clone(), TopicRole::ConnectConfigs)]))
        .collect();
    for role in [TopicRole::ConnectOffsets, TopicRole::ConnectStatus] {
        for topic in of(role) {
            let mine = named(topic, role);
            let best = configs.iter().max_by_key(|c| {
                let shared = named(c, TopicRole::ConnectConfigs)
                    .intersection(&mine)
                    .count();
                (shared, common_prefix(c, topic))
            });
            if let Some(best) = best {
                if let Some(m) = members.get_mut(*best) {
                    m.push((topic.clone(), role));
                }
            }
        }
    }
    let groups: Vec<&String> = residents
        .groups
        .iter()
        .filter(|(_, p)| p.as_str() == "connect")
        .map(|(g, _)| g)
        .collect();
    members
        .into_iter()
        .map(|(config, topics)| {
            let group = if groups.len() == 1 && configs.len() == 1 {
                groups.first().copied()
            } else {
                groups
                    .iter()
                    .copied()
                    .filter(|g| common_prefix(g, config) > 0)
                    .max_by_key(|g| common_prefix(g, config))
            };
            Resident {
                kind: UnitKind::ConnectCluster,
                name: group.unwrap_or(config).clone(),
                group: group.cloned(),
                topics,
            }
        })
        .collect()
}

/// Schema registries: `_schemas`, and any compacted topic keyed like it.
fn registries(residents: &Residents) -> Vec<Resident> {
    residents
        .topics
        .iter()
        .filter(|t| {
            t.as_str() == "_schemas"
                || residents
                    .keys
                    .get(*t)
                    .is_some_and(|k| keys_role(k) == Some(TopicRole::Schemas))
        })
        .map(|t| Resident {
            kind: UnitKind::SchemaRegistry,
            name: t.clone(),
            group: None,
            topics: vec![(t.clone(), TopicRole::Schemas)],
        })
        .collect()
}

#[cfg(test)]
mod tests;
