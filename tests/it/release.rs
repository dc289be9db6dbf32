//! The release a cluster's brokers are at least, told from the API versions they report: for
//! each Apache Kafka release the harness runs, and through TLS with client certificates.

use std::collections::BTreeMap;

use kafka_harness::{shared, Cluster, Release, ADMIN};
use kafka_migrate::cluster::release::{broker_apis, describe};
use kafka_migrate::cluster::Role;

async fn told(cluster: &Cluster) -> String {
    let properties: BTreeMap<String, String> =
        cluster.client_properties(ADMIN).into_iter().collect();
    let apis = broker_apis(Role::Source, &properties).await.unwrap();
    assert!(
        apis.values().all(|a| a.iter().any(|r| r.key == 18)),
        "every list has ApiVersions itself: {apis:?}"
    );
    describe(&apis).unwrap()
}

#[tokio::test]
async fn kafka_2_8_brokers_are_told_as_at_least_2_8() {
    assert_eq!(
        told(shared::source_of(Release::Kafka28)).await,
        "Apache Kafka ≥ 2.8"
    );
}

#[tokio::test]
async fn kafka_3_9_brokers_are_told_as_at_least_3_9() {
    assert_eq!(
        told(shared::source_of(Release::Kafka39)).await,
        "Apache Kafka ≥ 3.9"
    );
}

#[tokio::test]
async fn current_brokers_are_told_as_at_least_4_0_through_mutual_tls() {
    assert_eq!(told(shared::tls_source()).await, "Apache Kafka ≥ 4.0");
}
