//! Which Apache Kafka release a cluster's brokers are at least, told from the API version
//! ranges each broker reports in its ApiVersions answer. librdkafka has no call that returns
//! them, but logs them in its `feature` debug context as it connects; a short-lived client of
//! its own captures those lines. Only what the ranges prove is said ("Kafka ≥ 3.9"): a new
//! API key, or an old request version a release removed, dates a broker from below, never
//! exactly. Reads nothing else and decides nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;

use super::{ClusterError, Role};

/// One API a broker supports: its key and the request versions it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiRange {
    pub key: i16,
    pub min: i16,
    pub max: i16,
}

/// What dates a release: the first release that has it.
#[derive(Debug, Clone, Copy)]
enum Marker {
    /// The API key exists.
    Api(i16),
    /// The API's oldest supported version is at least this (a release removed older ones).
    MinVersion(i16, i16),
}

/// Releases and what only they and later ones report, newest first. Each marker is an API
/// added (or old versions removed) in that release, as the broker listener advertises it.
const MARKERS: [(&str, Marker); 8] = [
    // KIP-896: Fetch v0–v3 (and other old versions) removed. Produce v0 is still advertised
    // for older clients, so Produce dates nothing.
    ("4.0", Marker::MinVersion(1, 4)),
    // KIP-853: AddRaftVoter.
    ("3.9", Marker::Api(80)),
    // KIP-966: DescribeTopicPartitions.
    ("3.8", Marker::Api(75)),
    // KIP-714: ListClientMetricsResources (GetTelemetrySubscriptions, of the same KIP, is
    // advertised only by brokers with a telemetry plugin).
    ("3.7", Marker::Api(74)),
    // KIP-664: DescribeTransactions.
    ("3.0", Marker::Api(65)),
    // KIP-700: DescribeCluster.
    ("2.8", Marker::Api(60)),
    // KIP-554: DescribeUserScramCredentials.
    ("2.7", Marker::Api(50)),
    // KIP-496: OffsetDelete.
    ("2.4", Marker::Api(47)),
];

/// The release a broker reporting `apis` is at least, as "3.9"; None when it reports none of
/// the markers (a release before the oldest, or a broker that is not Apache Kafka's).
pub fn release_floor(apis: &[ApiRange]) -> Option<&'static str> {
    MARKERS.iter().find_map(|(release, marker)| {
        let holds = match *marker {
            Marker::Api(key) => apis.iter().any(|a| a.key == key),
            Marker::MinVersion(key, min) => apis.iter().any(|a| a.key == key && a.min >= min),
        };
        holds.then_some(*release)
    })
}

/// What the brokers that answered report, in words: "Apache Kafka ≥ 3.9", or with brokers
/// at different releases (a rolling upgrade) the lowest and that they differ.
pub fn describe(brokers: &BTreeMap<String, Vec<ApiRange>>) -> Option<String> {
    let floors: Vec<Option<&str>> = brokers.values().map(|apis| release_floor(apis)).collect();
    let lowest = floors.iter().min_by(|a, b| compare(**a, **b))?;
    let mut text = match lowest {
        Some(release) => format!("Apache Kafka ≥ {release}"),
        None => format!("older than Apache Kafka {}", MARKERS[MARKERS.len() - 1].0),
    };
    if floors.iter().any(|f| f != lowest) {
        text.push_str(" (brokers differ: some are newer)");
    }
    Some(text)
}

/// Orders release floors, None (older than every marker) first.
fn compare(a: Option<&str>, b: Option<&str>) -> std::cmp::Ordering {
    let rank = |r: Option<&str>| r.map_or(0, |r| MARKERS.len() - position(r));
    rank(a).cmp(&rank(b))
}

fn position(release: &str) -> usize {
    MARKERS
        .iter()
        .position(|(r, _)| *r == release)
        .unwrap_or(MARKERS.len())
}

/// Reads one line librdkafka logs in the `APIVERSION` facility, `[thrd:…]: BROKER: ApiKey
/// Produce (0) Versions 0..11`: the broker's name and the range, or None for other lines.
fn parse_api_line(message: &str) -> Option<(String, ApiRange)> {
    let (broker, rest) = split_broker(message)?;
    let rest = rest.trim_start().strip_prefix("ApiKey ")?;
    let (_, rest) = rest.split_once(" (")?;
    let (key, rest) = rest.split_once(") Versions ")?;
    let (min, max) = rest.trim().split_once("..")?;
    Some((
        broker,
        ApiRange {
            key: key.parse().ok()?,
            min: min.parse().ok()?,
            max: max.parse().ok()?,
        },
    ))
}

/// The broker a `[thrd:…]: BROKER: text` line is about, and the text.
fn split_broker(message: &str) -> Option<(String, &str)> {
    let rest = match message.strip_prefix("[thrd:") {
        Some(rest) => rest.split_once("]: ")?.1,
        None => message,
    };
    let (broker, text) = rest.split_once(": ")?;
    Some((broker.to_string(), text))
}

/// Each broker's ranges as its lines arrive, and whether its list is complete.
#[derive(Default)]
struct Reports {
    apis: BTreeMap<String, Vec<ApiRange>>,
    complete: Vec<String>,
}

/// A client context that keeps the ApiVersions librdkafka logs, and logs nothing itself.
#[derive(Default, Clone)]
struct ApiLog {
    reports: Arc<Mutex<Reports>>,
}

impl ApiLog {
    /// The complete lists so far.
    fn complete(&self) -> BTreeMap<String, Vec<ApiRange>> {
        let reports = self.reports.lock().unwrap_or_else(|p| p.into_inner());
        reports
            .apis
            .iter()
            .filter(|(broker, _)| reports.complete.contains(broker))
            .map(|(b, apis)| (b.clone(), apis.clone()))
            .collect()
    }
}

impl ClientContext for ApiLog {
    crate::auth::oauth_refresh_hook!();

    fn log(&self, _level: RDKafkaLogLevel, fac: &str, message: &str) {
        if fac != "APIVERSION" {
            return;
        }
        let mut reports = self.reports.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((broker, range)) = parse_api_line(message) {
            reports.apis.entry(broker).or_default().push(range);
        } else if let Some((broker, text)) = split_broker(message) {
            if text.trim_start().starts_with("Broker API support") {
                // A new answer (a reconnect) replaces the earlier one.
                reports.apis.insert(broker.clone(), Vec::new());
                reports.complete.retain(|b| *b != broker);
            } else if reports.apis.contains_key(&broker) && !reports.complete.contains(&broker) {
                // The feature checks follow the list.
                reports.complete.push(broker);
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::debug!(%error, reason, "Kafka client error event while reading API versions.");
    }
}

impl ConsumerContext for ApiLog {}

/// How long reading the API versions waits at most (the cluster has answered already).
const WAIT: Duration = Duration::from_secs(10);

/// The API version ranges of the brokers of the cluster reached with librdkafka `properties`
/// that answered a metadata request, by broker name.
pub async fn broker_apis(
    role: Role,
    properties: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Vec<ApiRange>>, ClusterError> {
    const OPERATION: &str = "reading the brokers' API versions";
    let context = ApiLog::default();
    let consumer: Arc<BaseConsumer<ApiLog>> = super::factory::kept_supplied(
        &super::factory::versions_config(role, properties),
        context.clone(),
    )
    .map_err(|e| ClusterError::other(role, OPERATION, crate::auth::client_error(&e)))?;
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        consumer
            .fetch_metadata(None, WAIT)
            .map_err(|e| ClusterError::other(role, OPERATION, e.to_string()))?;
        // The ApiVersions answer came before the metadata; its log lines are queued and
        // delivered as the client is polled.
        loop {
            let _ = consumer.poll(Duration::from_millis(50));
            let complete = context.complete();
            if !complete.is_empty() {
                return Ok(complete);
            }
            if started.elapsed() >= WAIT {
                return Err(ClusterError::other(
                    role,
                    OPERATION,
                    "no broker's API versions were logged".into(),
                ));
            }
        }
    })
    .await
    .map_err(|e| ClusterError::other(role, OPERATION, e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apis(keys: &[(i16, i16)]) -> Vec<ApiRange> {
        keys.iter()
            .map(|&(key, min)| ApiRange { key, min, max: 9 })
            .collect()
    }

    #[test]
    fn api_lines_are_read_with_their_broker() {
        let line = "[thrd:sasl_plaintext://127.0.0.1:9092/bootstrap]: \
                    sasl_plaintext://127.0.0.1:9092/bootstrap:   ApiKey Produce (0) Versions 3..12";
        assert_eq!(
            parse_api_line(line),
            Some((
                "sasl_plaintext://127.0.0.1:9092/bootstrap".to_string(),
                ApiRange {
                    key: 0,
                    min: 3,
                    max: 12
                }
            ))
        );
        assert_eq!(
            parse_api_line("[thrd:b/1]: b/1: Feature MsgVer1: Produce (2..2) supported by broker"),
            None
        );
        assert_eq!(parse_api_line("[thrd:b/1]: b/1: Broker API support:"), None);
    }

    #[test]
    fn a_release_is_told_from_below_by_its_newest_marker() {
        // Fetch from v4 only: 4.0 removed the older versions.
        assert_eq!(
            release_floor(&apis(&[(1, 4), (75, 0), (80, 0)])),
            Some("4.0")
        );
        assert_eq!(
            release_floor(&apis(&[(1, 0), (75, 0), (80, 0)])),
            Some("3.9")
        );
        assert_eq!(
            release_floor(&apis(&[(1, 0), (74, 0), (71, 0)])),
            Some("3.7")
        );
        assert_eq!(
            release_floor(&apis(&[(0, 0), (50, 0), (60, 0)])),
            Some("2.8")
        );
        assert_eq!(release_floor(&apis(&[(0, 0), (47, 0)])), Some("2.4"));
        assert_eq!(release_floor(&apis(&[(0, 0), (1, 0)])), None);
    }

    #[test]
    fn brokers_at_different_releases_are_described_by_the_lowest() {
        let one = |apis| BTreeMap::from([("b/1".to_string(), apis)]);
        assert_eq!(
            describe(&one(apis(&[(1, 4)]))).as_deref(),
            Some("Apache Kafka ≥ 4.0")
        );
        assert_eq!(
            describe(&one(apis(&[(0, 0)]))).as_deref(),
            Some("older than Apache Kafka 2.4")
        );
        let mixed = BTreeMap::from([
            ("b/1".to_string(), apis(&[(1, 4)])),
            ("b/2".to_string(), apis(&[(0, 0), (80, 0)])),
        ]);
        assert_eq!(
            describe(&mixed).as_deref(),
            Some("Apache Kafka ≥ 3.9 (brokers differ: some are newer)")
        );
        assert_eq!(describe(&BTreeMap::new()), None);
    }
}
