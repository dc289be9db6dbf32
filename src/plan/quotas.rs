//! Client quotas in the plan (`quotas { sync = true }`): each source entity's quotas are set on
//! the target, and the keys the target has beyond them removed, as topic configs are; entities
//! only the target has are left alone. Per-IP quotas belong to the source's network and are
//! left out with a warning, as is everything on a target without client quotas (MSK
//! Serverless). Pure: reads the inventories' quotas, returns actions and warnings.

use std::collections::BTreeMap;

use crate::cluster::inventory::Inventory;
use crate::config::{Migration, MskType};

use super::model::{Action, Plan, QuotaChange, Warning, WarningKind};

/// The quota actions and warnings of the migration, added to `plan`.
pub fn diff(migration: &Migration, source: &Inventory, target: &Inventory, plan: &mut Plan) {
    if !migration.quotas.sync {
        return;
    }
    let Some(quotas) = &source.quotas else {
        return;
    };
    if let Some(msk) = super::msk::target(migration).filter(|m| m.kind == MskType::Serverless) {
        if !quotas.is_empty() {
            plan.warnings.push(Warning {
                kind: WarningKind::QuotaLeftOut,
                subject: format!("target ({})", msk.kind.title()),
                message: format!(
                    "the source's client quotas of {} entities are left out: MSK Serverless has \
                     no client quotas (it limits throughput per partition and per cluster)",
                    quotas.len()
                ),
            });
        }
        return;
    }
    let on_target: BTreeMap<_, _> = target
        .quotas
        .iter()
        .flatten()
        .map(|q| (&q.entity, &q.values))
        .collect();
    for quota in quotas {
        if quota.entity.ip.is_some() {
            plan.warnings.push(Warning {
                kind: WarningKind::QuotaLeftOut,
                subject: quota.entity.to_string(),
                message: "per-IP quotas belong to the source's network: left out".into(),
            });
            continue;
        }
        let empty = BTreeMap::new();
        let before = on_target.get(&quota.entity).copied().unwrap_or(&empty);
        let mut changes: Vec<QuotaChange> = quota
            .values
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, v)| QuotaChange {
                key: k.clone(),
                before: before.get(k).copied(),
                after: Some(*v),
            })
            .collect();
        changes.extend(
            before
                .iter()
                .filter(|(k, _)| !quota.values.contains_key(*k))
                .map(|(k, v)| QuotaChange {
                    key: k.clone(),
                    before: Some(*v),
                    after: None,
                }),
        );
        if !changes.is_empty() {
            changes.sort_by(|a, b| a.key.cmp(&b.key));
            plan.actions.push(Action::SetClientQuotas {
                entity: quota.entity.clone(),
                changes,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::quotas::{ClientQuota, QuotaEntity, QuotaName};
    use crate::cluster::Role;
    use crate::testing::{inventory, migration};

    fn quota(user: Option<&str>, client: Option<&str>, values: &[(&str, f64)]) -> ClientQuota {
        let name = |n: &str| {
            if n.is_empty() {
                QuotaName::Default
            } else {
                QuotaName::Named(n.into())
            }
        };
        ClientQuota {
            entity: QuotaEntity {
                user: user.map(name),
                client_id: client.map(name),
                ip: None,
            },
            values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    /// The plan of `m` from a source and a target with no topics and these quotas.
    fn planned(m: &Migration, source: Vec<ClientQuota>, target: Vec<ClientQuota>) -> Plan {
        let mut s = inventory(Role::Source, vec![], vec![], vec![]);
        let mut t = inventory(Role::Target, vec![], vec![], vec![]);
        s.quotas = Some(source);
        t.quotas = Some(target);
        crate::plan::diff(m, &s, &t, crate::plan::Engine::Connect)
    }

    #[test]
    fn source_quotas_are_set_and_extra_keys_removed_like_configs() {
        let source = vec![
            quota(Some("alice"), None, &[("producer_byte_rate", 1024.0)]),
            quota(Some(""), None, &[("consumer_byte_rate", 2048.0)]),
            quota(Some("bob"), Some("app"), &[("request_percentage", 50.0)]),
            quota(None, Some(""), &[("producer_byte_rate", 10.0)]),
        ];
        let target = vec![
            quota(
                Some("alice"),
                None,
                &[("producer_byte_rate", 512.0), ("consumer_byte_rate", 1.0)],
            ),
            quota(None, Some(""), &[("producer_byte_rate", 10.0)]),
            quota(Some("target-only"), None, &[("producer_byte_rate", 1.0)]),
        ];
        let plan = planned(&migration("quotas {\n  sync = true\n}\n"), source, target);
        let text: Vec<String> = plan
            .actions
            .iter()
            .map(|a| match a {
                Action::SetClientQuotas { entity, changes } => format!(
                    "{entity}: {}",
                    changes
                        .iter()
                        .map(|c| format!("{} {:?}->{:?}", c.key, c.before, c.after))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            text,
            [
                "user \"alice\": consumer_byte_rate Some(1.0)->None, producer_byte_rate Some(512.0)->Some(1024.0)",
                "default user: consumer_byte_rate None->Some(2048.0)",
                "user \"bob\", client-id \"app\": request_percentage None->Some(50.0)",
            ]
        );
        assert_eq!(plan.summary().create, 2);
        assert_eq!(plan.summary().update, 1);
    }

    #[test]
    fn without_sync_or_on_serverless_no_quota_is_planned() {
        let source = vec![quota(Some("alice"), None, &[("producer_byte_rate", 1.0)])];
        let sync = "quotas {\n  sync = true\n}\n";
        assert!(planned(&migration(""), source.clone(), vec![])
            .actions
            .is_empty());
        assert_eq!(
            planned(&migration(sync), source.clone(), vec![])
                .actions
                .len(),
            1
        );
        let serverless = crate::plan::msk::tests::migration("type = \"serverless\"", sync);
        let plan = planned(&serverless, source, vec![]);
        assert!(plan.actions.is_empty());
        let left_out: Vec<&Warning> = plan
            .warnings
            .iter()
            .filter(|w| w.kind == WarningKind::QuotaLeftOut)
            .collect();
        assert_eq!(left_out.len(), 1);
        assert!(
            left_out[0].message.contains("no client quotas"),
            "{left_out:?}"
        );
    }
}
