//! Secret values: a [`Secret`] is printed, logged and serialised only as `**REDACTED**`;
//! [`SecretValues`] holds every secret value a migration file gave (from `env()`, `file()`,
//! `sensitive` variables and secret positions) so that text about the file can be checked
//! against it before it is shown; names that say secret; URLs shown without credentials.

use std::collections::{BTreeMap, BTreeSet};
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

/// What is shown instead of a secret.
pub const REDACTED: &str = "**REDACTED**";

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

/// Words that make a property or attribute name a secret's: a password, a client secret, a
/// key or key store, a token, a JAAS line, a PEM, an OAUTHBEARER configuration.
const SECRET_WORDS: [&str; 8] = [
    "password",
    "secret",
    "key",
    "token",
    "jaas",
    "pem",
    "oauthbearer",
    "credential",
];

/// Whether a librdkafka property (or any setting name) holds a secret, by its name.
pub fn is_secret_property(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| key.contains(word))
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

/// Whether a setting name is a secret's, allowing for a misspelling of "password" (`passwrd`,
/// `pasword`, `pwd`): the snippet masking and the property checks use it.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    is_secret_property(&lower)
        || lower.contains("pass")
        || lower.contains("pwd")
        || lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| strsim::damerau_levenshtein(word, "password") <= 2)
}

/// The shortest secret value looked for inside longer text; a shorter one is hidden only where
/// it is the whole value (so that a one-letter value does not blank every message).
const MIN_SEARCHED: usize = 3;

/// Every secret value a migration file gave. Debug shows only how many there are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretValues(BTreeSet<String>);

impl fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValues({} values)", self.0.len())
    }
}

impl SecretValues {
    /// Remembers `value` as secret (an empty value hides nothing).
    pub fn insert(&mut self, value: &str) {
        if !value.is_empty() {
            self.0.insert(value.to_string());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `text` is a secret value or holds one.
    pub fn found_in(&self, text: &str) -> bool {
        self.0
            .iter()
            .any(|s| text == s || (s.len() >= MIN_SEARCHED && text.contains(s.as_str())))
    }

    /// `text` with every secret value in it replaced by `**REDACTED**` (longest first, so a
    /// secret that holds another is replaced whole).
    pub fn scrub(&self, text: &str) -> String {
        if text.is_empty() || !self.found_in(text) {
            return text.to_string();
        }
        if self.0.contains(text) {
            return REDACTED.to_string();
        }
        let mut secrets: Vec<&String> = self.0.iter().filter(|s| s.len() >= MIN_SEARCHED).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut out = text.to_string();
        for s in secrets {
            out = out.replace(s.as_str(), REDACTED);
        }
        out
    }

    /// `text` with every secret value in it overwritten by `*`, byte for byte, so that
    /// offsets into it stay where they were (snippets of the file).
    pub fn mask(&self, text: &str) -> String {
        let mut bytes = text.as_bytes().to_vec();
        for secret in self.0.iter().filter(|s| s.len() >= MIN_SEARCHED) {
            for (at, _) in text.match_indices(secret.as_str()) {
                bytes[at..at + secret.len()].fill(b'*');
            }
        }
        // Whole secrets (valid UTF-8 runs) became ASCII: still UTF-8.
        String::from_utf8(bytes).unwrap_or_else(|_| "*".repeat(text.len()))
    }

    /// Every string in `value` that is or holds a secret replaced by `**REDACTED**` (object
    /// keys too).
    pub fn redact_json(&self, value: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(s) if self.found_in(&s) => Value::String(REDACTED.into()),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.redact_json(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let k = if self.found_in(&k) {
                            REDACTED.to_string()
                        } else {
                            k
                        };
                        (k, self.redact_json(v))
                    })
                    .collect(),
            ),
            other => other,
        }
    }
}

/// A URL as it may be shown: without the user name and password it may carry
/// (`https://user:password@host` → `https://host`).
pub fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
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

    #[test]
    fn names_that_say_secret_are_secret() {
        for name in [
            "ssl.key.pem",
            "sasl.oauthbearer.config",
            "sasl.oauthbearer.client.secret",
            "ssl.keystore.pasword",
            "sasl.jaas.config",
            "ssl.certificate.pem",
            "sasl.oauthbearer.token.endpoint.url",
        ] {
            assert!(is_secret_property(name), "{name}");
        }
        for name in ["passwrd", "pasword", "db_pwd", "Password", "key_password"] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["client.rack", "bootstrap_servers", "username", "region"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn secret_values_are_scrubbed_from_text_and_json() {
        let mut secrets = SecretValues::default();
        secrets.insert("hunter2");
        secrets.insert("x");
        assert_eq!(
            secrets.scrub("cannot be \"hunter2:9092\""),
            "cannot be \"**REDACTED**:9092\""
        );
        // A one-letter value is hidden where it is the whole value, not inside words.
        assert_eq!(secrets.scrub("x"), REDACTED);
        assert_eq!(secrets.scrub("a box"), "a box");
        let json = serde_json::json!({"a": ["hunter2-ish", "fine"], "hunter2": 1, "b": "x"});
        let shown = secrets.redact_json(json).to_string();
        assert!(
            !shown.contains("hunter2") && shown.contains("fine"),
            "{shown}"
        );
        assert!(!shown.contains("\"x\""), "{shown}");
        assert!(!format!("{secrets:?}").contains("hunter2"));
        let masked = secrets.mask("a = \"hunter2\" # é");
        assert_eq!(masked, "a = \"*******\" # é");
    }

    #[test]
    fn urls_are_shown_without_credentials() {
        assert_eq!(
            shown_url("https://user:hunter2@connect:8083/x?y"),
            "https://connect:8083/x?y"
        );
        assert_eq!(shown_url("http://connect:8083"), "http://connect:8083");
        assert_eq!(shown_url("http://a@b@c/"), "http://c/");
        assert_eq!(shown_url("not a url"), "not a url");
    }
}
