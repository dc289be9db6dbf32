//! What Amazon MSK's own API says a cluster is: DescribeClusterV2
//! (`GET /api/v2/clusters/{clusterArn}`), SigV4-signed with the credentials the target's MSK
//! IAM tokens are signed with. Gives the type (Standard, Express, Serverless), Kafka version,
//! broker count, instance type and storage mode; `plan` checks the declared `msk` block against
//! it. `KAFKA_MIGRATE_MSK_ENDPOINT` replaces `https://kafka.REGION.amazonaws.com` (a private
//! endpoint, or a stand-in in tests). Decides nothing about what changes.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use serde::{Deserialize, Serialize};

use crate::config::{AwsIam, MskType};

/// The environment variable that replaces MSK's API endpoint.
pub const ENDPOINT_VAR: &str = "KAFKA_MIGRATE_MSK_ENDPOINT";
const SIGNING_NAME: &str = "kafka";
const TIMEOUT: Duration = Duration::from_secs(15);

/// The cluster as MSK describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MskDescription {
    pub kind: MskType,
    pub kafka_version: Option<String>,
    pub brokers: Option<u32>,
    /// Such as "kafka.m5.large" or "express.m7g.large".
    pub instance_type: Option<String>,
    /// "LOCAL" or "TIERED".
    pub storage_mode: Option<String>,
}

/// What asking MSK's API gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MskLookup {
    Described {
        cluster: MskDescription,
    },
    /// Not asked or no answer (no credentials, refused, unreachable): why.
    Unanswered {
        reason: String,
    },
}

/// The path of DescribeClusterV2 for `arn` (percent-encoded as one path segment).
fn path(arn: &str) -> String {
    let encoded: String = arn
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("/api/v2/clusters/{encoded}")
}

/// DescribeClusterV2's answer, as AWS documents its JSON (lowerCamelCase members).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    cluster_info: ClusterInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClusterInfo {
    cluster_type: String,
    provisioned: Option<Provisioned>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Provisioned {
    broker_node_group_info: Option<BrokerNodeGroupInfo>,
    current_broker_software_info: Option<BrokerSoftwareInfo>,
    number_of_broker_nodes: Option<u32>,
    storage_mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BrokerNodeGroupInfo {
    instance_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BrokerSoftwareInfo {
    kafka_version: Option<String>,
}

/// The description in DescribeClusterV2's JSON `body`.
pub fn parse(body: &str) -> Result<MskDescription, String> {
    let response: Response =
        serde_json::from_str(body).map_err(|e| format!("an unexpected answer: {e}"))?;
    let info = response.cluster_info;
    if info.cluster_type == "SERVERLESS" {
        return Ok(MskDescription {
            kind: MskType::Serverless,
            kafka_version: None,
            brokers: None,
            instance_type: None,
            storage_mode: None,
        });
    }
    let p = info.provisioned.ok_or_else(|| {
        format!(
            "a {} cluster without provisioned details",
            info.cluster_type
        )
    })?;
    let instance_type = p.broker_node_group_info.and_then(|b| b.instance_type);
    // Express brokers are the `express.*` instance types.
    let kind = if instance_type
        .as_deref()
        .is_some_and(|t| t.starts_with("express."))
    {
        MskType::Express
    } else {
        MskType::Standard
    };
    Ok(MskDescription {
        kind,
        kafka_version: p.current_broker_software_info.and_then(|s| s.kafka_version),
        brokers: p.number_of_broker_nodes,
        instance_type,
        storage_mode: p.storage_mode,
    })
}

/// Asks MSK's API about the cluster of `iam.cluster_arn`. Every failure (no ARN, no
/// credentials, refused, unreachable, unexpected answer) is an [`MskLookup::Unanswered`]
/// saying why; never a credential in it.
///
/// A cluster's description does not change while the tool runs: an answer is kept for the
/// process, so that the plans a running `apply` makes (every refresh and group sync round)
/// ask MSK once, not every few seconds.
pub async fn describe(iam: &AwsIam) -> MskLookup {
    static ANSWERED: std::sync::Mutex<Vec<(String, MskDescription)>> =
        std::sync::Mutex::new(Vec::new());
    let key = format!(
        "{}|{}|{}",
        iam.region,
        iam.cluster_arn.as_deref().unwrap_or_default(),
        std::env::var(ENDPOINT_VAR).unwrap_or_default()
    );
    let known = ANSWERED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, cluster)| cluster.clone());
    if let Some(cluster) = known {
        return MskLookup::Described { cluster };
    }
    match ask(iam).await {
        Ok(cluster) => {
            ANSWERED
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((key, cluster.clone()));
            MskLookup::Described { cluster }
        }
        Err(reason) => MskLookup::Unanswered { reason },
    }
}

async fn ask(iam: &AwsIam) -> Result<MskDescription, String> {
    let arn = iam
        .cluster_arn
        .as_deref()
        .ok_or("the target's aws_iam block has no cluster_arn")?;
    let settings = iam.clone();
    let credentials =
        tokio::task::spawn_blocking(move || crate::auth::iam_token::credentials(&settings))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    let endpoint = std::env::var(ENDPOINT_VAR)
        .ok()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| format!("https://kafka.{}.amazonaws.com", iam.region));
    let url = format!("{}{}", endpoint.trim_end_matches('/'), path(arn));
    let identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&iam.region)
        .name(SIGNING_NAME)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("signing the request: {e}"))?
        .into();
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::empty(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| format!("signing the request: {e}"))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| format!("signing the request: {e}"))?
        .into_parts();
    let mut request = http::Request::get(url.as_str())
        .body(())
        .map_err(|e| e.to_string())?;
    instructions.apply_to_request_http1x(&mut request);
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let mut call = client.get(url.as_str());
    for (name, value) in request.headers() {
        call = call.header(name.as_str(), value.as_bytes());
    }
    let response = call.send().await.map_err(|e| {
        format!(
            "{} did not answer: {e}",
            crate::config::shown_url(&endpoint)
        )
    })?;
    let status = response.status();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        let message: String = body.chars().take(300).collect();
        return Err(format!("DescribeClusterV2 answered {status}: {message}"));
    }
    parse(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arn_is_one_path_segment() {
        assert_eq!(
            path("arn:aws:kafka:eu-west-1:123456789012:cluster/orders/abcd-1"),
            "/api/v2/clusters/arn%3Aaws%3Akafka%3Aeu-west-1%3A123456789012%3Acluster%2Forders%2Fabcd-1"
        );
    }

    #[test]
    fn each_type_is_read_from_the_documented_shape() {
        let provisioned = |instance: &str| {
            format!(
                r#"{{"clusterInfo":{{"clusterType":"PROVISIONED","clusterName":"orders","state":"ACTIVE",
                "provisioned":{{"brokerNodeGroupInfo":{{"instanceType":"{instance}","clientSubnets":["s-1"]}},
                "currentBrokerSoftwareInfo":{{"kafkaVersion":"3.6.0"}},"numberOfBrokerNodes":3,
                "storageMode":"LOCAL"}}}}}}"#
            )
        };
        let standard = parse(&provisioned("kafka.m5.large")).unwrap();
        assert_eq!(
            standard,
            MskDescription {
                kind: MskType::Standard,
                kafka_version: Some("3.6.0".into()),
                brokers: Some(3),
                instance_type: Some("kafka.m5.large".into()),
                storage_mode: Some("LOCAL".into()),
            }
        );
        assert_eq!(
            parse(&provisioned("express.m7g.large")).unwrap().kind,
            MskType::Express
        );
        let serverless =
            parse(r#"{"clusterInfo":{"clusterType":"SERVERLESS","serverless":{"vpcConfigs":[]}}}"#)
                .unwrap();
        assert_eq!(serverless.kind, MskType::Serverless);
        assert!(parse("{}").unwrap_err().contains("unexpected answer"));
    }
}
