//! DescribeProducers (Kafka API 61, KIP-664, version 0, Kafka 2.8+): the producers still active
//! on a partition, with their last write time, asked of the partition's leader. librdkafka has
//! no call for it, so it goes over the tool's own protocol connection ([`crate::cluster::wire`]),
//! which speaks every security protocol the cluster may use (TLS, SASL PLAIN/SCRAM,
//! OAUTHBEARER with MSK IAM tokens); `kafka-protocol` encodes the messages.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_producers_request::TopicRequest;
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;

use crate::config::ClusterConfig;

/// The only version `kafka-protocol` and Kafka define.
const VERSION: i16 = 0;

/// A producer the partition's leader still knows as active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ActiveProducer {
    pub producer_id: i64,
    pub producer_epoch: i32,
    /// When it last wrote to the partition, in milliseconds since the Unix epoch (-1: unknown).
    pub last_timestamp_ms: i64,
    /// First offset of its open transaction, if one is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_transaction_from: Option<i64>,
}

/// Why the producers could not be described.
#[derive(Debug, Clone, thiserror::Error)]
#[error("DescribeProducers to {broker}: {message}")]
pub struct ProducersError {
    pub broker: String,
    pub message: String,
}

/// Per partition, the producers active on it, asking each leader (`broker` address → its
/// partitions) once, with `cluster`'s security settings.
pub async fn describe_producers(
    cluster: &ClusterConfig,
    leaders: &BTreeMap<String, Vec<(String, i32)>>,
) -> Result<BTreeMap<(String, i32), Vec<ActiveProducer>>, ProducersError> {
    let mut out = BTreeMap::new();
    for (broker, partitions) in leaders {
        let fail = |message: String| ProducersError {
            broker: broker.clone(),
            message,
        };
        let response = super::ask_broker(cluster, broker, &request(partitions), VERSION)
            .await
            .map_err(fail)?;
        out.extend(found(response).map_err(fail)?);
    }
    Ok(out)
}

/// One request for `partitions`, grouped by topic.
fn request(partitions: &[(String, i32)]) -> DescribeProducersRequest {
    DescribeProducersRequest::default().with_topics(
        super::by_topic(partitions)
            .into_iter()
            .map(|(topic, partitions)| {
                TopicRequest::default()
                    .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                    .with_partition_indexes(partitions)
            })
            .collect(),
    )
}

type Found = Vec<((String, i32), Vec<ActiveProducer>)>;

/// The producers of each partition in `response`; a partition's error is an error.
fn found(response: DescribeProducersResponse) -> Result<Found, String> {
    let mut out = Vec::new();
    for topic in response.topics {
        let name = topic.name.0.to_string();
        for p in topic.partitions {
            if p.error_code != 0 {
                return Err(format!(
                    "{name} partition {}: error {}{}",
                    p.partition_index,
                    p.error_code,
                    p.error_message
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default()
                ));
            }
            let producers = p
                .active_producers
                .into_iter()
                .map(|s| ActiveProducer {
                    producer_id: s.producer_id.0,
                    producer_epoch: s.producer_epoch,
                    last_timestamp_ms: s.last_timestamp,
                    open_transaction_from: (s.current_txn_start_offset >= 0)
                        .then_some(s.current_txn_start_offset),
                })
                .collect();
            out.push(((name.clone(), p.partition_index), producers));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::describe_producers_response::{
        PartitionResponse, ProducerState, TopicResponse,
    };
    use kafka_protocol::messages::ProducerId;

    use super::*;

    #[test]
    fn the_request_groups_partitions_by_topic() {
        let req = request(&[("ab".into(), 0), ("cd".into(), 1), ("ab".into(), 2)]);
        let topics: Vec<(String, Vec<i32>)> = req
            .topics
            .iter()
            .map(|t| (t.name.0.to_string(), t.partition_indexes.clone()))
            .collect();
        assert_eq!(
            topics,
            vec![("ab".to_string(), vec![0, 2]), ("cd".to_string(), vec![1])]
        );
    }

    fn response(error_code: i16, txn: i64) -> DescribeProducersResponse {
        let state = ProducerState::default()
            .with_producer_id(ProducerId(7))
            .with_producer_epoch(1)
            .with_last_timestamp(1_700_000_000_000)
            .with_current_txn_start_offset(txn);
        let partition = PartitionResponse::default()
            .with_partition_index(3)
            .with_error_code(error_code)
            .with_active_producers(vec![state]);
        DescribeProducersResponse::default().with_topics(vec![TopicResponse::default()
            .with_name(TopicName(StrBytes::from_static_str("t")))
            .with_partitions(vec![partition])])
    }

    #[test]
    fn a_response_gives_each_partition_its_producers() {
        let found = found(response(0, -1)).unwrap();
        assert_eq!(
            found,
            vec![(
                ("t".to_string(), 3),
                vec![ActiveProducer {
                    producer_id: 7,
                    producer_epoch: 1,
                    last_timestamp_ms: 1_700_000_000_000,
                    open_transaction_from: None,
                }]
            )]
        );
        assert_eq!(found_txn(42), Some(42));
    }

    fn found_txn(txn: i64) -> Option<i64> {
        found(response(0, txn)).unwrap()[0].1[0].open_transaction_from
    }

    #[test]
    fn a_partition_error_names_the_partition() {
        let err = found(response(6, -1)).unwrap_err();
        assert_eq!(err, "t partition 3: error 6");
    }
}
