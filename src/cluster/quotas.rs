//! Client quotas (KIP-546): DescribeClientQuotas of every entity and AlterClientQuotas in
//! batches, over the tool's own protocol connection ([`super::wire`]) since librdkafka has no
//! API for them. The entities are users, client ids, both together, and their defaults (and
//! IP addresses, read but never planned). Decides nothing about what changes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::client::{ClusterClient, ClusterError, ErrorKind};
use super::native::{batches, MAX_RECORDS_PER_REQUEST};
use super::wire::{Connection, Reader, WireError, Writer};

const DESCRIBE_CLIENT_QUOTAS: i16 = 48;
const ALTER_CLIENT_QUOTAS: i16 = 49;
/// Kafka's CLUSTER_AUTHORIZATION_FAILED.
const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;

/// One part of a quota entity: a name, or the default of its type.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum QuotaName {
    /// The default for every user (or client id) without a quota of its own.
    Default,
    Named(String),
}

/// Whom a client quota applies to: a user, a client id, both, or an IP address.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub struct QuotaEntity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<QuotaName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<QuotaName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<QuotaName>,
}

impl QuotaEntity {
    /// (entity type, name or None for the default) as the protocol names them.
    fn parts(&self) -> Vec<(&'static str, Option<&str>)> {
        [
            ("user", &self.user),
            ("client-id", &self.client_id),
            ("ip", &self.ip),
        ]
        .into_iter()
        .filter_map(|(kind, name)| {
            name.as_ref().map(|n| {
                (
                    kind,
                    match n {
                        QuotaName::Default => None,
                        QuotaName::Named(s) => Some(s.as_str()),
                    },
                )
            })
        })
        .collect()
    }

    fn from_parts(parts: Vec<(String, Option<String>)>) -> Result<QuotaEntity, WireError> {
        let mut entity = QuotaEntity::default();
        for (kind, name) in parts {
            let name = name.map_or(QuotaName::Default, QuotaName::Named);
            match kind.as_str() {
                "user" => entity.user = Some(name),
                "client-id" => entity.client_id = Some(name),
                "ip" => entity.ip = Some(name),
                other => {
                    return Err(WireError::Malformed(format!(
                        "an unknown quota entity type {other:?}"
                    )))
                }
            }
        }
        Ok(entity)
    }
}

impl std::fmt::Display for QuotaEntity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .parts()
            .into_iter()
            .map(|(kind, name)| match name {
                Some(n) => format!("{kind} \"{}\"", n.escape_debug()),
                None => format!("default {kind}"),
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// The quotas of one entity: key (such as `producer_byte_rate`) → value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientQuota {
    pub entity: QuotaEntity,
    pub values: BTreeMap<String, f64>,
}

/// One quota to set (`Some`) or remove (`None`) on an entity.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaAlteration {
    pub entity: QuotaEntity,
    pub ops: Vec<(String, Option<f64>)>,
}

fn entity_parts(r: &mut Reader<'_>) -> Result<QuotaEntity, WireError> {
    let parts = r.array(|r| {
        let kind = r.string()?.unwrap_or_default();
        Ok((kind, r.string()?))
    })?;
    QuotaEntity::from_parts(parts)
}

fn write_entity(w: &mut Writer, entity: &QuotaEntity) {
    w.array(&entity.parts(), |w, (kind, name)| {
        w.string(Some(kind)).string(*name);
    });
}

impl ClusterClient {
    /// A protocol connection to this cluster, for the requests librdkafka lacks.
    async fn wire(&self, operation: &str) -> Result<Connection, ClusterError> {
        let cluster = self.cluster_config().ok_or_else(|| {
            self.error(
                operation,
                "the client was made without the cluster's settings".into(),
            )
        })?;
        Connection::open(cluster)
            .await
            .map_err(|e| self.wire_error(operation, e))
    }

    fn wire_error(&self, operation: &str, error: WireError) -> ClusterError {
        let (kind, help) = match &error {
            WireError::Unreachable { .. } => (
                ErrorKind::Unreachable,
                Some(format!(
                    "check the {} cluster's bootstrap_servers and network access",
                    self.role()
                )),
            ),
            WireError::Authentication(_) => (
                ErrorKind::Authentication,
                Some(format!(
                    "check the {} cluster's credentials and TLS settings",
                    self.role()
                )),
            ),
            WireError::Malformed(_) | WireError::Unsupported(_) => (ErrorKind::Other, None),
        };
        ClusterError {
            role: self.role(),
            operation: operation.to_string(),
            cause: error.to_string(),
            kind,
            help,
        }
    }

    fn quota_refused(&self, operation: &str, code: i16, message: Option<String>) -> ClusterError {
        let cause = message.unwrap_or_else(|| format!("error {code}"));
        if code == CLUSTER_AUTHORIZATION_FAILED {
            ClusterError {
                role: self.role(),
                operation: operation.to_string(),
                cause,
                kind: ErrorKind::Authorization,
                help: Some(format!(
                    "grant the {} cluster's principal {} on the cluster",
                    self.role(),
                    if operation.starts_with("listing") {
                        "DescribeConfigs"
                    } else {
                        "AlterConfigs"
                    }
                )),
            }
        } else {
            self.error(operation, format!("{cause} (error {code})"))
        }
    }

    /// Every client quota of the cluster, sorted by entity.
    pub async fn client_quotas(&self) -> Result<Vec<ClientQuota>, ClusterError> {
        const OPERATION: &str = "listing client quotas";
        let mut connection = self.wire(OPERATION).await?;
        // No components and not strict: every entity.
        let mut body = Writer::default();
        body.i32(0).bool(false);
        let response = connection
            .request(DESCRIBE_CLIENT_QUOTAS, 0, &body.0)
            .await
            .map_err(|e| self.wire_error(OPERATION, e))?;
        let parse = |response: &[u8]| -> Result<_, WireError> {
            let mut r = Reader::new(response);
            let _throttle = r.i32()?;
            let code = r.i16()?;
            let message = r.string()?;
            let entries = r.array(|r| {
                let entity = entity_parts(r)?;
                let values = r.array(|r| Ok((r.string()?.unwrap_or_default(), r.f64()?)))?;
                Ok(ClientQuota {
                    entity,
                    values: values.into_iter().collect(),
                })
            })?;
            Ok((code, message, entries))
        };
        let (code, message, mut entries) =
            parse(&response).map_err(|e| self.wire_error(OPERATION, e))?;
        if code != 0 {
            return Err(self.quota_refused(OPERATION, code, message));
        }
        entries.sort_by(|a, b| a.entity.cmp(&b.entity));
        Ok(entries)
    }

    /// Sets and removes client quotas, a batch of entities per request; the first entity the
    /// broker refuses is the error.
    pub async fn alter_client_quotas(
        &self,
        alterations: Vec<QuotaAlteration>,
    ) -> Result<(), ClusterError> {
        const OPERATION: &str = "setting client quotas";
        if alterations.is_empty() {
            return Ok(());
        }
        let mut connection = self.wire(OPERATION).await?;
        // Each quota set or removed is one record the controller writes.
        for batch in batches(alterations, |a| a.ops.len(), MAX_RECORDS_PER_REQUEST) {
            let mut body = Writer::default();
            body.array(&batch, |w, a| {
                write_entity(w, &a.entity);
                w.array(&a.ops, |w, (key, value)| {
                    w.string(Some(key))
                        .f64(value.unwrap_or(0.0))
                        .bool(value.is_none());
                });
            })
            .bool(false);
            let response = connection
                .request(ALTER_CLIENT_QUOTAS, 0, &body.0)
                .await
                .map_err(|e| self.wire_error(OPERATION, e))?;
            let parse = |response: &[u8]| -> Result<_, WireError> {
                let mut r = Reader::new(response);
                let _throttle = r.i32()?;
                r.array(|r| {
                    let code = r.i16()?;
                    let message = r.string()?;
                    Ok((code, message, entity_parts(r)?))
                })
            };
            let results = parse(&response).map_err(|e| self.wire_error(OPERATION, e))?;
            if let Some((code, message, entity)) = results.into_iter().find(|r| r.0 != 0) {
                return Err(self.quota_refused(&format!("{OPERATION} of {entity}"), code, message));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_read_back_and_read_as_people_name_them() {
        let entity = QuotaEntity {
            user: Some(QuotaName::Named("alice".into())),
            client_id: Some(QuotaName::Default),
            ip: None,
        };
        let mut w = Writer::default();
        write_entity(&mut w, &entity);
        assert_eq!(entity_parts(&mut Reader::new(&w.0)).unwrap(), entity);
        assert_eq!(entity.to_string(), "user \"alice\", default client-id");
        let json = serde_json::to_string(&entity).unwrap();
        assert_eq!(json, r#"{"user":{"named":"alice"},"client_id":"default"}"#);
        assert_eq!(serde_json::from_str::<QuotaEntity>(&json).unwrap(), entity);
        assert!(QuotaEntity::from_parts(vec![("group".into(), None)]).is_err());
    }
}
