//! Running the migration on a Kafka Connect cluster: put the connector configs, wait until
//! every connector and task runs (a failed one is reported with its error), wait until
//! MirrorMaker 2 has caught up, and diff the wanted configs against the deployed ones.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use similar::{ChangeTag, TextDiff};

use crate::cluster::{ClusterClient, ClusterError, Role, Scope};
use crate::config::{is_secret_property, Migration};
use crate::replicate::Status;

use super::export::Connector;
use super::rest::{ConnectClient, ConnectorState, RestError};

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Rest(#[from] RestError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("connector \"{connector}\" {what} FAILED on worker {worker}: {error}")]
    Failed {
        connector: String,
        /// "itself" or "task N".
        what: String,
        worker: String,
        error: String,
    },
    #[error("connector \"{connector}\" is not RUNNING after {waited:?}: {state}")]
    NotRunning {
        connector: String,
        waited: Duration,
        state: String,
    },
    #[error(
        "MirrorMaker 2 did not catch up in {waited:?}: {lag} record offset(s) behind, {behind}"
    )]
    NotSynced {
        waited: Duration,
        lag: i64,
        behind: String,
    },
}

/// Puts every connector's config (`PUT /connectors/NAME/config`): creates the missing ones,
/// updates the others. `done` is called after each.
pub async fn deploy(
    client: &ConnectClient,
    connectors: &[Connector],
    mut done: impl FnMut(&Connector),
) -> Result<(), DeployError> {
    for c in connectors {
        client.put_config(&c.name, &c.config).await?;
        done(c);
    }
    Ok(())
}

/// Waits until every connector and all its tasks are RUNNING; `min_tasks` names connectors
/// that must have at least that many tasks. The first FAILED connector or task is an error
/// with the first line of its trace.
pub async fn wait_running(
    client: &ConnectClient,
    connectors: &[Connector],
    min_tasks: &BTreeMap<String, usize>,
    timeout: Duration,
) -> Result<Vec<ConnectorState>, DeployError> {
    let started = Instant::now();
    loop {
        let mut states = Vec::new();
        let mut waiting = None;
        for c in connectors {
            let Some(state) = client.status(&c.name).await? else {
                waiting = Some((c.name.clone(), "not created yet".to_string()));
                continue;
            };
            failed(&state)?;
            let wanted = min_tasks.get(&c.name).copied().unwrap_or(0);
            let running = state.tasks.iter().filter(|t| t.state == "RUNNING").count();
            if state.connector.state != "RUNNING" || running < wanted || running < state.tasks.len()
            {
                waiting = Some((
                    c.name.clone(),
                    format!(
                        "connector {}, {running} of {} task(s) RUNNING",
                        state.connector.state,
                        state.tasks.len().max(wanted)
                    ),
                ));
            }
            states.push(state);
        }
        match waiting {
            None => return Ok(states),
            Some((connector, state)) if started.elapsed() >= timeout => {
                return Err(DeployError::NotRunning {
                    connector,
                    waited: timeout,
                    state,
                })
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

fn failed(state: &ConnectorState) -> Result<(), DeployError> {
    let fail = |what: String, s: &super::TaskState| DeployError::Failed {
        connector: state.name.clone(),
        what,
        worker: s.worker_id.clone(),
        error: s.error().unwrap_or("no trace given").to_string(),
    };
    if state.connector.state == "FAILED" {
        return Err(fail("itself".into(), &state.connector));
    }
    match state.tasks.iter().find(|t| t.state == "FAILED") {
        Some(t) => Err(fail(format!("task {}", t.id.unwrap_or(-1)), t)),
        None => Ok(()),
    }
}

/// MirrorMaker 2's lag per partition: the source's committed range against what the target
/// holds (identity names, so the same topic and partition on both sides). `None` when
/// MirrorMaker 2 has not replicated the migration (its offset-syncs topic is not on the target).
pub async fn mirrored_status(migration: &Migration) -> Result<Option<Status>, ClusterError> {
    let target = ClusterClient::of(migration, Role::Target).await?;
    let marker = super::offset_syncs_topic(&migration.name);
    let is_marker = |t: &str| t == marker;
    let none = |_: &str| false;
    let found = target
        .inventory(&Scope {
            topic: &is_marker,
            group: &none,
        })
        .await?;
    if !found.topics.contains_key(&marker) {
        return Ok(None);
    }
    mirror_lag(migration).await.map(Some)
}

/// MirrorMaker 2's lag per partition (see [`mirrored_status`]), without looking for its
/// offset-syncs topic first.
pub async fn mirror_lag(migration: &Migration) -> Result<Status, ClusterError> {
    let clients = Clients::of(migration).await?;
    mirror_state(migration, &clients)
        .await
        .map(|(status, _)| status)
}

/// Admin clients of both clusters, kept across reads.
struct Clients {
    source: ClusterClient,
    target: ClusterClient,
}

impl Clients {
    async fn of(migration: &Migration) -> Result<Clients, ClusterError> {
        Ok(Clients {
            source: ClusterClient::of(migration, Role::Source).await?,
            target: ClusterClient::of(migration, Role::Target).await?,
        })
    }
}

/// Per source partition: its last stable offset and the target partition's.
type Ends = BTreeMap<(String, i32), (i64, i64)>;

async fn mirror_state(
    migration: &Migration,
    clients: &Clients,
) -> Result<(Status, Ends), ClusterError> {
    let Clients { source, target } = clients;
    let selects = |t: &str| migration.topics.selects(t);
    let none = |_: &str| false;
    let scope = Scope {
        topic: &selects,
        group: &none,
    };
    let source_inventory = source.inventory(&scope).await?;
    let target_inventory = target.inventory(&scope).await?;
    let progress =
        crate::state::mirror_progress(migration, &source_inventory, &target_inventory).await?;
    let mut ends = Ends::new();
    for (name, topic) in &source_inventory.topics {
        for (partition, s) in &topic.partitions {
            let t = target_inventory
                .topics
                .get(name)
                .and_then(|t| t.partitions.get(partition))
                .map_or(-1, |t| t.last_stable);
            ends.insert((name.clone(), *partition), (s.last_stable, t));
        }
    }
    let status = Status::from_inventory(&migration.name, &source_inventory, &progress);
    Ok((status, ends))
}

/// Waits until MirrorMaker 2 has replicated every record of the source's committed range:
/// lag 0 on two reads a second apart between which neither cluster's offsets moved (with
/// exactly-once, transaction markers count as offsets on the target, so a count that has
/// caught up while MirrorMaker 2 still writes is not taken for the end).
pub async fn wait_synced(migration: &Migration, timeout: Duration) -> Result<Status, DeployError> {
    let started = Instant::now();
    let clients = Clients::of(migration).await?;
    let mut previous: Option<Ends> = None;
    loop {
        let (status, ends) = mirror_state(migration, &clients).await?;
        if status.total_lag() == 0 && previous.as_ref() == Some(&ends) {
            return Ok(status);
        }
        previous = (status.total_lag() == 0).then_some(ends);
        if started.elapsed() >= timeout {
            let behind: Vec<String> = status
                .partitions
                .iter()
                .filter(|p| p.lag > 0)
                .take(5)
                .map(|p| format!("{} partition {} ({} behind)", p.topic, p.partition, p.lag))
                .collect();
            return Err(DeployError::NotSynced {
                waited: timeout,
                lag: status.total_lag(),
                behind: behind.join(", "),
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// How one connector's deployed config differs from the wanted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorDiff {
    pub name: String,
    /// `None`: the connector is not deployed.
    pub deployed: Option<BTreeMap<String, String>>,
    pub wanted: BTreeMap<String, String>,
}

impl ConnectorDiff {
    pub fn has_changes(&self) -> bool {
        self.deployed.as_ref() != Some(&self.wanted)
    }
}

/// The deployed config of each connector, beside the wanted one.
pub async fn deployed_diffs(
    client: &ConnectClient,
    connectors: &[Connector],
) -> Result<Vec<ConnectorDiff>, DeployError> {
    let mut out = Vec::new();
    for c in connectors {
        out.push(ConnectorDiff {
            name: c.name.clone(),
            deployed: client.config(&c.name).await?,
            wanted: c.config.clone(),
        });
    }
    Ok(out)
}

/// The changed lines of a connector config, `- key = value` for the deployed and
/// `+ key = value` for the wanted; values of secret properties in clear are not shown.
pub fn config_diff(
    deployed: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> Vec<(ChangeTag, String)> {
    let lines = |m: &BTreeMap<String, String>| {
        m.iter()
            .map(|(k, v)| {
                let shown = if is_secret_property(k) && !v.contains("${") {
                    "**REDACTED**"
                } else {
                    v.as_str()
                };
                format!("{k} = \"{shown}\"\n")
            })
            .collect::<String>()
    };
    let (old, new) = (lines(deployed), lines(wanted));
    TextDiff::from_lines(&old, &new)
        .iter_all_changes()
        .filter(|c| c.tag() != ChangeTag::Equal)
        .map(|c| (c.tag(), c.value().trim_end().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_task_is_reported_with_the_first_line_of_its_trace() {
        // As `GET /connectors/NAME/status` answers.
        let state: ConnectorState = serde_json::from_str(
            r#"{"name": "m.mirror-source", "type": "source",
                "connector": {"state": "RUNNING", "worker_id": "10.0.0.1:8083"},
                "tasks": [
                  {"id": 0, "state": "RUNNING", "worker_id": "10.0.0.1:8083"},
                  {"id": 1, "state": "FAILED", "worker_id": "10.0.0.2:8083",
                   "trace": "org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed\n\tat org.apache.kafka..."}
                ]}"#,
        )
        .unwrap();
        let error = failed(&state).unwrap_err().to_string();
        assert_eq!(
            error,
            "connector \"m.mirror-source\" task 1 FAILED on worker 10.0.0.2:8083: org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed"
        );
    }

    #[test]
    fn the_diff_shows_changed_keys_and_hides_clear_secrets() {
        let deployed: BTreeMap<String, String> = [
            ("topics", "orders\\..*"),
            ("tasks.max", "4"),
            (
                "source.cluster.sasl.jaas.config",
                "x required password=\"hunter2\";",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut wanted = deployed.clone();
        wanted.insert("topics".into(), "orders\\..*,payments".into());
        wanted.insert(
            "source.cluster.sasl.jaas.config".into(),
            "x required password=\"${env:PW}\";".into(),
        );
        let diff = config_diff(&deployed, &wanted);
        let text: Vec<String> = diff
            .iter()
            .map(|(tag, line)| format!("{tag}{line}"))
            .collect();
        assert!(
            text.contains(&"-topics = \"orders\\..*\"".to_string()),
            "{text:?}"
        );
        assert!(
            text.contains(&"+topics = \"orders\\..*,payments\"".to_string()),
            "{text:?}"
        );
        assert!(!text.iter().any(|l| l.contains("hunter2")), "{text:?}");
        assert!(!text.iter().any(|l| l.contains("tasks.max")), "{text:?}");
    }
}
