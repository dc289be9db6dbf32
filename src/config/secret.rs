//! A secret value: printed, logged and serialised only as `**REDACTED**`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

/// A password or key passphrase from the migration file. Debug, Display and serialisation
/// never reveal it; [`Secret::expose`] hands it to the code that must give it to librdkafka.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String, SecretOrigin);

/// Where a secret was read from: exported configurations refer to it there (a Kafka config
/// provider) instead of writing its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretOrigin {
    /// `env("NAME")`.
    Env(String),
    /// `file("path")`, resolved against the migration file's folder.
    File(std::path::PathBuf),
    /// Written in the migration file itself (or through a variable).
    Literal,
}

const REDACTED: &str = "**REDACTED**";

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into(), SecretOrigin::Literal)
    }

    /// A secret read from `origin`.
    pub fn with_origin(value: impl Into<String>, origin: SecretOrigin) -> Secret {
        Secret(value.into(), origin)
    }

    /// Where the secret was read from.
    pub fn origin(&self) -> &SecretOrigin {
        &self.1
    }

    /// The secret itself. Callers must not print or log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

impl schemars::JsonSchema for Secret {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secret".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A secret; write it as env(\"NAME\") or file(\"path\") rather than in clear."
        })
    }
}

/// Whether a librdkafka property holds a secret (a password, a client secret, a JAAS line).
pub fn is_secret_property(key: &str) -> bool {
    key.contains("password") || key.contains("secret") || key.ends_with(".jaas.config")
}

/// librdkafka properties as they may be shown: secret values replaced by `**REDACTED**`.
pub fn shown_properties(properties: &BTreeMap<String, String>) -> BTreeMap<&str, &str> {
    properties
        .iter()
        .map(|(k, v)| {
            let v = if is_secret_property(k) {
                REDACTED
            } else {
                v.as_str()
            };
            (k.as_str(), v)
        })
        .collect()
}

/// Serialises a property map with its secret values redacted (`serialize_with`).
pub fn serialize_properties<S: Serializer>(
    properties: &BTreeMap<String, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    shown_properties(properties).serialize(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            format!("\"{REDACTED}\"")
        );
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn secret_properties_never_show() {
        let props: BTreeMap<String, String> = [
            ("ssl.keystore.password", "hunter2"),
            ("sasl.oauthbearer.client.secret", "hunter3"),
            ("client.rack", "use1-az1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let shown = format!("{:?}", shown_properties(&props));
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.contains("use1-az1"), "{shown}");
    }
}
