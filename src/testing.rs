//! Fixtures shared by the unit tests: migrations from HCL text and inventories built by hand.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cluster::inventory::{
    Acls, ClusterDefaults, ConfigEntry, ConfigSource, Group, Inventory, Partition, Role, Topic,
};
use crate::cluster::native::{AclBinding, AclOperation, AclPermission, PatternType, ResourceType};
use crate::config::Migration;

/// A migration named "m" between brokers a:1 and b:1, plus `extra` HCL.
pub fn migration(extra: &str) -> Migration {
    let text = format!(
        "name = \"m\"\ncluster \"source\" {{ bootstrap_servers = [\"a:1\"] }}\ncluster \"target\" {{ bootstrap_servers = [\"b:1\"] }}\n{extra}"
    );
    crate::config::parse_with_env("m.hcl", &text, Path::new("."), &[], &|_| None).unwrap()
}

pub fn topic(name: &str, partitions: i32, configs: &[(&str, &str)], end: i64) -> Topic {
    Topic {
        name: name.into(),
        replication_factor: 1,
        partitions: (0..partitions)
            .map(|p| {
                (
                    p,
                    Partition {
                        log_start: 0,
                        end,
                        last_stable: end,
                    },
                )
            })
            .collect(),
        // Kafka's default record size limit, unless the topic sets its own.
        configs: [(
            "max.message.bytes".to_string(),
            ConfigEntry {
                value: Some("1048588".into()),
                source: ConfigSource::Default,
                sensitive: false,
            },
        )]
        .into_iter()
        .chain(configs.iter().map(|(k, v)| {
            (
                k.to_string(),
                ConfigEntry {
                    value: Some(v.to_string()),
                    source: ConfigSource::Topic,
                    sensitive: false,
                },
            )
        }))
        .collect(),
    }
}

pub fn inventory(
    role: Role,
    topics: Vec<Topic>,
    acls: Vec<AclBinding>,
    groups: Vec<(&str, Group)>,
) -> Inventory {
    Inventory {
        role,
        brokers: 1,
        topics: topics.into_iter().map(|t| (t.name.clone(), t)).collect(),
        denied_topics: BTreeMap::new(),
        acls: Acls::Listed { bindings: acls },
        groups: groups
            .into_iter()
            .map(|(g, v)| (g.to_string(), v))
            .collect(),
        replicated: BTreeMap::new(),
        defaults: ClusterDefaults {
            message_max_bytes: Some(1_048_588),
            socket_request_max_bytes: Some(104_857_600),
            topic_configs: None,
        },
        quotas: None,
        scram_users: None,
        msk: None,
        residents: None,
    }
}

pub fn acl(name: &str, pattern: PatternType, principal: &str) -> AclBinding {
    AclBinding {
        resource_type: ResourceType::Topic,
        name: name.into(),
        pattern_type: pattern,
        principal: principal.into(),
        host: "*".into(),
        operation: AclOperation::Read,
        permission: AclPermission::Allow,
    }
}
