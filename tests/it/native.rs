//! The native admin calls against real brokers, checked against Kafka's own tools: ACLs,
//! committed group offsets, offset listing by isolation level, incremental configs.

use std::sync::Arc;
use std::time::Duration;

use kafka_harness::tools::Tool;
use kafka_harness::{data, shared, Cluster, ADMIN, ALICE};
use kafka_migrate::cluster::native::*;
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

fn ext(cluster: &Cluster) -> AdminExt<DefaultClientContext> {
    let admin: AdminClient<DefaultClientContext> = cluster.admin_config().create().unwrap();
    AdminExt::new(Arc::new(admin))
}

#[tokio::test]
async fn acls_round_trip_and_agree_with_kafka_acls() {
    let cluster = shared::secure_source();
    let name = data::unique_name("acl");
    let bindings = vec![
        AclBinding {
            resource_type: ResourceType::Topic,
            name: format!("{name}."),
            pattern_type: PatternType::Prefixed,
            principal: "User:alice".into(),
            host: "*".into(),
            operation: AclOperation::Read,
            permission: AclPermission::Allow,
        },
        AclBinding {
            resource_type: ResourceType::Group,
            name: name.clone(),
            pattern_type: PatternType::Literal,
            principal: "User:bob".into(),
            host: "*".into(),
            operation: AclOperation::Read,
            permission: AclPermission::Deny,
        },
        AclBinding {
            resource_type: ResourceType::TransactionalId,
            name: name.clone(),
            pattern_type: PatternType::Literal,
            principal: "User:alice".into(),
            host: "*".into(),
            operation: AclOperation::Write,
            permission: AclPermission::Allow,
        },
    ];
    let admin = ext(cluster);
    admin.create_acls(bindings.clone()).await.unwrap();
    // Creating them again is not an error.
    admin.create_acls(bindings.clone()).await.unwrap();
    let listed = admin.describe_acls().await.unwrap();
    for b in &bindings {
        assert!(listed.contains(b), "{b} not listed");
    }
    // Kafka's own tool sees what the wrapper created.
    let out = cluster
        .tool(Tool::Acls, &["--list", "--group", &name])
        .unwrap();
    assert!(
        out.contains("principal=User:bob") && out.contains("permissionType=DENY"),
        "{out}"
    );
    // A principal without permission is refused with an authorization error.
    let alice: AdminClient<DefaultClientContext> = cluster.client_config(ALICE).create().unwrap();
    let err = AdminExt::new(Arc::new(alice))
        .create_acls(bindings)
        .await
        .unwrap_err();
    assert!(err.is_authorization(), "{err}");
}

#[tokio::test]
async fn group_offsets_are_listed_and_altered() {
    let cluster = shared::plain_source();
    let topic = data::unique_name("offsets");
    let group = data::unique_name("group");
    data::create_topic(&cluster.admin_config(), &topic, 2, 1, &[])
        .await
        .unwrap();
    data::produce(
        &cluster.admin_config(),
        &topic,
        &data::sample_records(20, 2),
    )
    .await
    .unwrap();
    data::commit_offsets(
        &cluster.admin_config(),
        &group,
        &[(&topic, 0, 4), (&topic, 1, 9)],
    )
    .unwrap();
    let admin = ext(cluster);
    let listed = admin
        .list_consumer_group_offsets(group.clone())
        .await
        .unwrap();
    assert_eq!(listed.get(&(topic.clone(), 0)), Some(&4));
    assert_eq!(listed.get(&(topic.clone(), 1)), Some(&9));
    admin
        .alter_consumer_group_offsets(group.clone(), vec![(topic.clone(), 0, 7)])
        .await
        .unwrap();
    let out = cluster
        .tool(Tool::ConsumerGroups, &["--describe", "--group", &group])
        .unwrap();
    let line = out
        .lines()
        .find(|l| l.contains(&topic) && l.split_whitespace().nth(2) == Some("0"))
        .unwrap_or_default();
    assert_eq!(line.split_whitespace().nth(3), Some("7"), "{out}");
}

#[tokio::test]
async fn latest_read_committed_is_the_last_stable_offset() {
    let cluster = shared::plain_source();
    let topic = data::unique_name("lso");
    data::create_topic(&cluster.admin_config(), &topic, 1, 1, &[])
        .await
        .unwrap();
    data::produce(&cluster.admin_config(), &topic, &data::sample_records(5, 1))
        .await
        .unwrap();
    let producer: BaseProducer = cluster
        .admin_config()
        .set("transactional.id", data::unique_name("open-txn"))
        .create()
        .unwrap();
    producer.init_transactions(Duration::from_secs(30)).unwrap();
    producer.begin_transaction().unwrap();
    producer
        .send(
            BaseRecord::<str, str>::to(&topic)
                .partition(0)
                .payload("pending"),
        )
        .unwrap();
    producer.flush(Duration::from_secs(30)).unwrap();
    let admin = ext(cluster);
    let ask =
        |isolation| admin.list_offsets(vec![(topic.clone(), 0, OffsetSpec::Latest)], isolation);
    let committed = ask(IsolationLevel::ReadCommitted).await.unwrap()[&(topic.clone(), 0)].offset;
    let uncommitted =
        ask(IsolationLevel::ReadUncommitted).await.unwrap()[&(topic.clone(), 0)].offset;
    assert_eq!((committed, uncommitted), (5, 6));
    producer.abort_transaction(Duration::from_secs(30)).unwrap();
    let earliest = admin
        .list_offsets(
            vec![(topic.clone(), 0, OffsetSpec::Earliest)],
            IsolationLevel::ReadCommitted,
        )
        .await
        .unwrap();
    assert_eq!(earliest[&(topic.clone(), 0)].offset, 0);
}

#[tokio::test]
async fn incremental_configs_set_delete_and_validate_only() {
    let cluster = shared::plain_source();
    let topic = data::unique_name("configs");
    data::create_topic(
        &cluster.admin_config(),
        &topic,
        1,
        1,
        &[("segment.ms", "600000")],
    )
    .await
    .unwrap();
    let admin = ext(cluster);
    let change = |ops| vec![(ConfigResourceKind::Topic, topic.clone(), ops)];
    let set = AlterConfigOp {
        name: "retention.ms".into(),
        op: AlterOp::Set,
        value: Some("123456".into()),
    };
    let delete = AlterConfigOp {
        name: "segment.ms".into(),
        op: AlterOp::Delete,
        value: None,
    };
    // Validate-only changes nothing.
    admin
        .incremental_alter_configs(change(vec![set.clone()]), true)
        .await
        .unwrap();
    let described = cluster
        .tool(
            Tool::Configs,
            &[
                "--describe",
                "--entity-type",
                "topics",
                "--entity-name",
                &topic,
            ],
        )
        .unwrap();
    assert!(!described.contains("retention.ms=123456"), "{described}");
    admin
        .incremental_alter_configs(change(vec![set, delete]), false)
        .await
        .unwrap();
    let described = cluster
        .tool(
            Tool::Configs,
            &[
                "--describe",
                "--entity-type",
                "topics",
                "--entity-name",
                &topic,
            ],
        )
        .unwrap();
    assert!(
        described.contains("retention.ms=123456") && !described.contains("segment.ms=600000"),
        "{described}"
    );
    // A value the broker refuses is reported with the topic.
    let bad = AlterConfigOp {
        name: "retention.ms".into(),
        op: AlterOp::Set,
        value: Some("soon".into()),
    };
    let err = admin
        .incremental_alter_configs(change(vec![bad]), true)
        .await
        .unwrap_err();
    assert_eq!(err.subject.as_deref(), Some(topic.as_str()), "{err}");
}

/// DescribeProducers, over the tool's own protocol connection, names the idempotent producer
/// that wrote to a partition — over PLAINTEXT and over SASL_SSL with SCRAM-SHA-512.
#[tokio::test]
async fn describe_producers_names_the_producer_that_wrote_over_plaintext_and_scram_tls() {
    use crate::auth::{cluster_block, Scheme};
    use kafka_migrate::cluster::{ClusterClient, Role};
    let plain = shared::plain_source();
    let tls = shared::tls_source();
    let blocks = [
        (
            plain,
            format!("  bootstrap_servers = [\"{}\"]", plain.bootstrap()),
        ),
        (tls, cluster_block(tls, Scheme::ScramSsl)),
    ];
    for (cluster, block) in blocks {
        let topic = data::unique_name("producers");
        data::create_topic(&cluster.admin_config(), &topic, 2, 1, &[])
            .await
            .unwrap();
        data::produce(&cluster.admin_config(), &topic, &data::sample_records(4, 1))
            .await
            .unwrap();
        let text = format!(
            "name = \"producers\"\ncluster \"source\" {{\n{block}\n}}\n\
             cluster \"target\" {{\n  bootstrap_servers = [\"localhost:9\"]\n}}\n"
        );
        let env = |key: &str| (key == crate::auth::PASSWORD_VAR).then(|| ADMIN.password.into());
        let migration = kafka_migrate::config::parse_with_env(
            "producers.hcl",
            &text,
            std::path::Path::new("."),
            &[],
            &env,
        )
        .unwrap();
        let client = ClusterClient::of(&migration, Role::Source).await.unwrap();
        let found = client
            .active_producers(vec![(topic.clone(), 0), (topic.clone(), 1)])
            .await
            .unwrap();
        let on_0 = &found[&(topic.clone(), 0)];
        assert_eq!(on_0.len(), 1, "{found:?}");
        assert!(
            on_0[0].producer_id >= 0 && on_0[0].last_timestamp_ms > 0,
            "{on_0:?}"
        );
        assert!(found[&(topic.clone(), 1)].is_empty(), "{found:?}");
    }
}
