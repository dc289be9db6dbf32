//! Record sizes for MirrorMaker 2: its producer keeps Kafka's `max.request.size` of 1 MiB and
//! would refuse larger records the target accepts; the source connector's configs get the
//! selected topics' record size limits instead.

use crate::plan::RecordLimits;

use super::export::Connector;

/// What the Java producer adds to a record's bytes when it checks it against
/// `max.request.size` (a batch header and the record's framing), with room to spare.
const PRODUCER_MARGIN: u64 = 512;
/// Kafka's defaults: `max.request.size` and `max.partition.fetch.bytes` (1 MiB), and the
/// producer's `buffer.memory` (32 MiB), which no single record may exceed.
const REQUEST_DEFAULT: u64 = 1 << 20;
const BUFFER_DEFAULT: u64 = 32 << 20;

/// Sizes the MirrorSourceConnector's producer and source consumer for `limits`: the producer
/// takes every record the target topics accept, the consumer fetches the largest the source
/// topics hold in one go.
pub fn with_record_limits(connectors: &mut [Connector], limits: &RecordLimits) {
    let Some(source) = connectors
        .iter_mut()
        .find(|c| c.name.ends_with(".mirror-source"))
    else {
        return;
    };
    let config = &mut source.config;
    if let Some(target_max) = limits.target_max() {
        let cap = limits
            .target_request_max
            .unwrap_or(u64::MAX)
            .max(REQUEST_DEFAULT);
        let request = (target_max + PRODUCER_MARGIN).clamp(REQUEST_DEFAULT, cap);
        config.insert(
            "producer.override.max.request.size".into(),
            request.to_string(),
        );
        if request > BUFFER_DEFAULT {
            config.insert(
                "producer.override.buffer.memory".into(),
                request.to_string(),
            );
        }
    }
    if let Some(source_max) = limits.source_max {
        let partition = source_max.max(REQUEST_DEFAULT);
        let fetch_key = "source.consumer.fetch.max.bytes";
        let fetch = config
            .get(fetch_key)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            .max(partition);
        config.insert(
            "source.consumer.max.partition.fetch.bytes".into(),
            partition.to_string(),
        );
        config.insert(fetch_key.into(), fetch.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_connector_takes_the_largest_records_of_either_side() {
        let migration = crate::testing::migration("");
        let mut connectors = super::super::connectors(&migration).unwrap();
        let limits = RecordLimits {
            target: [("a".to_string(), 8 << 20), ("b".to_string(), 1_048_588)].into(),
            source_max: Some(8 << 20),
            target_request_max: Some(104_857_600),
        };
        with_record_limits(&mut connectors, &limits);
        let source = &connectors[0].config;
        assert!(connectors[0].name.ends_with(".mirror-source"));
        assert_eq!(
            source["producer.override.max.request.size"],
            ((8u64 << 20) + 512).to_string()
        );
        assert!(!source.contains_key("producer.override.buffer.memory"));
        assert_eq!(
            source["source.consumer.max.partition.fetch.bytes"],
            (8u64 << 20).to_string()
        );
        // The configured fetch.max.bytes (50 MiB) already holds such a record.
        assert_eq!(
            source["source.consumer.fetch.max.bytes"],
            (50u64 << 20).to_string()
        );
        for other in &connectors[1..] {
            assert!(!other
                .config
                .contains_key("producer.override.max.request.size"));
        }
        // Records beyond the producer's 32 MiB buffer get a buffer that holds one.
        let huge = RecordLimits {
            target: [("a".to_string(), 64 << 20)].into(),
            source_max: Some(64 << 20),
            target_request_max: Some(200 << 20),
        };
        with_record_limits(&mut connectors, &huge);
        assert_eq!(
            connectors[0].config["producer.override.buffer.memory"],
            ((64u64 << 20) + 512).to_string()
        );
    }
}
