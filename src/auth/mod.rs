//! Security settings → librdkafka properties, one mapping for every client the tool creates
//! (admin, consumer, producer) on either side. Decides nothing about what to migrate.

pub mod iam_policy;
pub mod iam_token;
pub mod scram_secrets;
pub mod token_supply;

use std::collections::BTreeMap;

use crate::config::{ClusterConfig, Protocol};

pub use iam_policy::{MskCluster, PrincipalPolicy};

/// librdkafka properties for a cluster, secrets included: hand them to a client, never print
/// them ([`redacted`] gives a printable copy).
pub fn client_properties(cluster: &ClusterConfig) -> BTreeMap<String, String> {
    let mut props = BTreeMap::new();
    props.insert(
        "bootstrap.servers".to_string(),
        cluster.bootstrap_servers.join(","),
    );
    let security = &cluster.security;
    props.insert(
        "security.protocol".to_string(),
        protocol_name(security.protocol).to_string(),
    );
    if let Some(sasl) = &security.sasl {
        props.insert("sasl.mechanism".to_string(), sasl.mechanism.to_string());
        props.insert("sasl.username".to_string(), sasl.username.clone());
        props.insert(
            "sasl.password".to_string(),
            sasl.password.expose().to_string(),
        );
    }
    if let Some(iam) = &security.aws_iam {
        props.insert("sasl.mechanism".to_string(), "OAUTHBEARER".to_string());
        props.insert(
            "sasl.oauthbearer.config".to_string(),
            iam_token::oauthbearer_config(iam),
        );
    }
    if let Some(tls) = &security.tls {
        if let Some(ca) = &tls.ca_file {
            props.insert("ssl.ca.location".to_string(), ca.display().to_string());
        }
        if let Some(cert) = &tls.cert_file {
            props.insert(
                "ssl.certificate.location".to_string(),
                cert.display().to_string(),
            );
        }
        if let Some(key) = &tls.key_file {
            props.insert("ssl.key.location".to_string(), key.display().to_string());
        }
        if let Some(password) = &tls.key_password {
            props.insert(
                "ssl.key.password".to_string(),
                password.expose().to_string(),
            );
        }
        if !tls.verify_hostname {
            props.insert(
                "ssl.endpoint.identification.algorithm".to_string(),
                "none".to_string(),
            );
        }
    }
    for (k, v) in &cluster.properties {
        props.insert(k.clone(), v.clone());
    }
    props
}

/// The OAuth refresh hook of every client context: a fresh MSK IAM token for a cluster with
/// `aws_iam` (the only OAUTHBEARER clients the tool makes).
pub fn oauth_token(
    oauthbearer_config: Option<&str>,
) -> Result<rdkafka::client::OAuthToken, Box<dyn std::error::Error>> {
    iam_token::generate(oauthbearer_config).map_err(|e| {
        tracing::warn!(error = %e, "Could not make an MSK IAM authentication token.");
        e.into()
    })
}

/// The OAuth refresh hook, inside an `impl ClientContext`: every client context of the tool
/// has it, so an MSK IAM token reaches whichever client librdkafka asks for one.
macro_rules! oauth_refresh_hook {
    () => {
        const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

        fn generate_oauth_token(
            &self,
            oauthbearer_config: Option<&str>,
        ) -> Result<rdkafka::client::OAuthToken, Box<dyn std::error::Error>> {
            $crate::auth::oauth_token(oauthbearer_config)
        }
    };
}
pub(crate) use oauth_refresh_hook;

/// The same properties with every secret replaced, for logs and errors.
pub fn redacted(props: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    crate::config::shown_properties(props)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A client that could not be created, told without any property's value: librdkafka's
/// refusal of a property quotes the value (a password, a key), so the message is rebuilt
/// from the property's name and the reason, with the value taken out.
pub fn client_error(error: &rdkafka::error::KafkaError) -> String {
    use rdkafka::error::KafkaError;
    match error {
        KafkaError::ClientConfig(_, reason, key, value) => {
            let reason = if value.is_empty() {
                reason.clone()
            } else {
                reason.replace(value.as_str(), "…")
            };
            format!("librdkafka refuses property \"{key}\": {reason}")
        }
        KafkaError::ClientCreation(reason) => {
            format!("librdkafka could not create the client: {reason}")
        }
        other => other.to_string(),
    }
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Plaintext => "PLAINTEXT",
        Protocol::Ssl => "SSL",
        Protocol::SaslPlaintext => "SASL_PLAINTEXT",
        Protocol::SaslSsl => "SASL_SSL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::error::KafkaError;
    use rdkafka::types::RDKafkaConfRes;

    #[test]
    fn a_refused_property_is_told_without_its_value() {
        let error = KafkaError::ClientConfig(
            RDKafkaConfRes::RD_KAFKA_CONF_INVALID,
            "Invalid value \"SECRET-MARKER\" for configuration property \"ssl.key.password\""
                .into(),
            "ssl.key.password".into(),
            "SECRET-MARKER".into(),
        );
        assert!(
            error.to_string().contains("SECRET-MARKER"),
            "rdkafka quotes it"
        );
        let shown = client_error(&error);
        assert!(!shown.contains("SECRET-MARKER"), "{shown}");
        assert!(shown.contains("\"ssl.key.password\""), "{shown}");
    }

    #[test]
    fn redacted_properties_hide_every_secret_name() {
        let props: BTreeMap<String, String> = [
            ("ssl.key.pem", "SECRET-MARKER"),
            ("sasl.oauthbearer.config", "SECRET-MARKER"),
            ("sasl.password", "SECRET-MARKER"),
            ("client.rack", "use1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let shown = format!("{:?}", redacted(&props));
        assert!(
            !shown.contains("SECRET-MARKER") && shown.contains("use1"),
            "{shown}"
        );
    }
}
