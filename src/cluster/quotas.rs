//! Client quotas (KIP-546): DescribeClientQuotas of every entity and AlterClientQuotas in
//! batches, over the tool's own protocol connection ([`super::wire`]) since librdkafka has no
//! API for them. The entities are users, client ids, both together, and their defaults (and
//! IP addresses, read but never planned). Decides nothing about what changes.

use std::collections::BTreeMap;

use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
use kafka_protocol::messages::{
    AlterClientQuotasRequest, DescribeClientQuotasRequest, DescribeClientQuotasResponse,
};
use kafka_protocol::protocol::StrBytes;
use serde::{Deserialize, Serialize};

use super::client::{ClusterClient, ClusterError, ErrorKind};
use super::native::{batches, MAX_RECORDS_PER_REQUEST};
use super::wire::{Connection, WireError};

/// The request versions sent: version 0 of both is taken by every broker from Kafka 2.6 on,
/// 4.x included (version 1 only adds the flexible encoding).
const DESCRIBE_CLIENT_QUOTAS_VERSION: i16 = 0;
const ALTER_CLIENT_QUOTAS_VERSION: i16 = 0;
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

    /// The entity as the protocol's (type, name) pairs of an AlterClientQuotas entry.
    fn to_protocol(&self) -> Vec<EntityData> {
        self.parts()
            .into_iter()
            .map(|(kind, name)| {
                EntityData::default()
                    .with_entity_type(StrBytes::from_static_str(kind))
                    .with_entity_name(name.map(|n| StrBytes::from_string(n.to_string())))
            })
            .collect()
    }

    /// The entity of a response's (type, name or null for the default) pairs.
    fn from_parts<'a>(
        parts: impl IntoIterator<Item = (&'a StrBytes, &'a Option<StrBytes>)>,
    ) -> Result<QuotaEntity, WireError> {
        let mut entity = QuotaEntity::default();
        for (kind, name) in parts {
            let name = name
                .as_ref()
                .map_or(QuotaName::Default, |n| QuotaName::Named(n.to_string()));
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

    fn quota_refused(&self, operation: &str, code: i16, message: Option<StrBytes>) -> ClusterError {
        let cause = message.map_or_else(|| format!("error {code}"), |m| m.to_string());
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
        let response = connection
            .request(
                &DescribeClientQuotasRequest::default(),
                DESCRIBE_CLIENT_QUOTAS_VERSION,
            )
            .await
            .map_err(|e| self.wire_error(OPERATION, e))?;
        let DescribeClientQuotasResponse {
            error_code,
            error_message,
            entries,
            ..
        } = response;
        if error_code != 0 {
            return Err(self.quota_refused(OPERATION, error_code, error_message));
        }
        let mut entries = entries
            .unwrap_or_default()
            .into_iter()
            .map(|entry| {
                let entity = entry
                    .entity
                    .iter()
                    .map(|e| (&e.entity_type, &e.entity_name));
                Ok(ClientQuota {
                    entity: QuotaEntity::from_parts(entity)?,
                    values: entry
                        .values
                        .into_iter()
                        .map(|v| (v.key.to_string(), v.value))
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.wire_error(OPERATION, e))?;
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
            let entries = batch
                .iter()
                .map(|a| {
                    let ops = a.ops.iter().map(|(key, value)| {
                        OpData::default()
                            .with_key(StrBytes::from_string(key.clone()))
                            .with_value(value.unwrap_or(0.0))
                            .with_remove(value.is_none())
                    });
                    EntryData::default()
                        .with_entity(a.entity.to_protocol())
                        .with_ops(ops.collect())
                })
                .collect();
            let request = AlterClientQuotasRequest::default().with_entries(entries);
            let response = connection
                .request(&request, ALTER_CLIENT_QUOTAS_VERSION)
                .await
                .map_err(|e| self.wire_error(OPERATION, e))?;
            if let Some(refused) = response.entries.into_iter().find(|r| r.error_code != 0) {
                let entity = QuotaEntity::from_parts(
                    refused
                        .entity
                        .iter()
                        .map(|e| (&e.entity_type, &e.entity_name)),
                )
                .map_err(|e| self.wire_error(OPERATION, e))?;
                return Err(self.quota_refused(
                    &format!("{OPERATION} of {entity}"),
                    refused.error_code,
                    refused.error_message,
                ));
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
        let parts = entity.to_protocol();
        let read = QuotaEntity::from_parts(parts.iter().map(|e| (&e.entity_type, &e.entity_name)));
        assert_eq!(read.unwrap(), entity);
        assert_eq!(entity.to_string(), "user \"alice\", default client-id");
        let json = serde_json::to_string(&entity).unwrap();
        assert_eq!(json, r#"{"user":{"named":"alice"},"client_id":"default"}"#);
        assert_eq!(serde_json::from_str::<QuotaEntity>(&json).unwrap(), entity);
        let group = (StrBytes::from_static_str("group"), None);
        assert!(QuotaEntity::from_parts([(&group.0, &group.1)]).is_err());
    }
}
