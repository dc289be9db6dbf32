//! One cluster's security settings as Java Kafka client properties, for the Connect worker
//! and the MirrorMaker 2 connectors. Secrets are never written: each is a reference that a
//! Kafka config provider resolves on the worker (`${env:NAME}`, or `${dir:FOLDER:FILE}` for
//! the whole content of a file).

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::{ClusterConfig, Protocol, SaslMechanism, Secret, SecretOrigin};

/// The worker's `config.providers` settings that the references below need.
pub const CONFIG_PROVIDERS: [(&str, &str); 4] = [
    ("config.providers", "env,file,dir"),
    (
        "config.providers.env.class",
        "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
    ),
    (
        "config.providers.file.class",
        "org.apache.kafka.common.config.provider.FileConfigProvider",
    ),
    (
        "config.providers.dir.class",
        "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
    ),
];

/// Connection properties of `cluster` (bootstrap servers and security), without prefix.
/// `side` ("SOURCE" or "TARGET") names the environment variable a secret written in clear in
/// the migration file is expected in.
pub fn connection(cluster: &ClusterConfig, side: &str) -> BTreeMap<String, String> {
    let mut props = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        props.insert(k.to_string(), v);
    };
    set("bootstrap.servers", cluster.bootstrap_servers.join(","));
    let security = &cluster.security;
    set("security.protocol", security.protocol.as_str().to_string());
    if let Some(sasl) = &security.sasl {
        let module = match sasl.mechanism {
            SaslMechanism::Plain => "org.apache.kafka.common.security.plain.PlainLoginModule",
            SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
                "org.apache.kafka.common.security.scram.ScramLoginModule"
            }
        };
        set("sasl.mechanism", sasl.mechanism.to_string());
        set(
            "sasl.jaas.config",
            format!(
                "{module} required username=\"{}\" password=\"{}\";",
                jaas_quoted(&sasl.username),
                reference(&sasl.password, &format!("{side}_SASL_PASSWORD"))
            ),
        );
    }
    if let Some(iam) = &security.aws_iam {
        let mut options = String::new();
        if let Some(profile) = &iam.profile {
            options.push_str(&format!(" awsProfileName=\"{}\"", jaas_quoted(profile)));
        }
        if let Some(role) = &iam.role_arn {
            options.push_str(&format!(
                " awsRoleArn=\"{}\" awsStsRegion=\"{}\"",
                jaas_quoted(role),
                jaas_quoted(&iam.region)
            ));
        }
        set("sasl.mechanism", "AWS_MSK_IAM".to_string());
        set(
            "sasl.jaas.config",
            format!("software.amazon.msk.auth.iam.IAMLoginModule required{options};"),
        );
        set(
            "sasl.client.callback.handler.class",
            "software.amazon.msk.auth.iam.IAMClientCallbackHandler".to_string(),
        );
    }
    if let Some(tls) = security
        .tls
        .as_ref()
        .filter(|_| security.protocol.uses_tls())
    {
        if let Some(ca) = &tls.ca_file {
            set("ssl.truststore.type", "PEM".to_string());
            set("ssl.truststore.location", ca.display().to_string());
        }
        if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
            set("ssl.keystore.type", "PEM".to_string());
            set("ssl.keystore.certificate.chain", file_content(cert));
            set("ssl.keystore.key", file_content(key));
            if let Some(password) = &tls.key_password {
                set(
                    "ssl.key.password",
                    reference(password, &format!("{side}_SSL_KEY_PASSWORD")),
                );
            }
        }
        if !tls.verify_hostname {
            set("ssl.endpoint.identification.algorithm", String::new());
        }
    }
    if security.protocol == Protocol::Plaintext {
        props.retain(|k, _| k == "bootstrap.servers" || k == "security.protocol");
    }
    props
}

/// Text inside a JAAS option's double quotes: a backslash or a quote escaped, so that the
/// text cannot close the quotes and add options of its own. (Line breaks never get here:
/// `validate` refuses control characters in users, profiles and ARNs.)
fn jaas_quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A config-provider reference to `secret`: where the migration file read it from, or the
/// environment variable `fallback` for a secret written in the file itself.
fn reference(secret: &Secret, fallback: &str) -> String {
    match secret.origin() {
        SecretOrigin::Env(name) => format!("${{env:{name}}}"),
        SecretOrigin::File(path) => file_content(path),
        SecretOrigin::Literal => format!("${{env:{fallback}}}"),
    }
}

/// `${dir:FOLDER:FILE}`: the whole content of a file, read by the worker.
fn file_content(path: &Path) -> String {
    let folder = path
        .parent()
        .map_or(String::new(), |p| p.display().to_string());
    let file = path
        .file_name()
        .map_or(String::new(), |f| f.to_string_lossy().into_owned());
    format!("${{dir:{folder}:{file}}}")
}

/// The environment variables the worker needs for secrets written in clear in the migration
/// file (which the exported files never hold).
pub fn needed_env(cluster: &ClusterConfig, side: &str) -> Vec<String> {
    let mut out = Vec::new();
    let security = &cluster.security;
    if let Some(sasl) = &security.sasl {
        if *sasl.password.origin() == SecretOrigin::Literal {
            out.push(format!("{side}_SASL_PASSWORD"));
        }
    }
    if let Some(password) = security.tls.as_ref().and_then(|t| t.key_password.as_ref()) {
        if *password.origin() == SecretOrigin::Literal {
            out.push(format!("{side}_SSL_KEY_PASSWORD"));
        }
    }
    out
}
