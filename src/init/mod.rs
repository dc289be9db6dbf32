//! `kafka-migrate init`: a commented migration file to start from, written from what the
//! source cluster holds (an error, and no file, when a named source cannot be read), or a
//! template when no source is named. Reads the source only;
//! never contacts the target, and writes no file it was not told to overwrite.
//!
//! - `patterns`: which topics and groups are selected and the fewest patterns that say so;
//! - `render`: the file's text, with each block's defaults as comments (from the schema);
//! - `discover`: reading the source through [`crate::cluster::ClusterClient`];
//! - `residents`: reading what tells the source's applications apart (also for `plan`);
//! - `report`: `init --report`, what the source holds and how it is used (sizes, throughput
//!   over a sampling window, producers and consumers per topic), written to no file.

mod discover;
mod patterns;
mod render;
pub mod report;
pub mod residents;

use std::path::{Path, PathBuf};

use miette::miette;

pub use discover::Discovered;
pub use patterns::{
    group_left_out, group_patterns, internal_reason, topic_plan, Pattern, TopicPlan,
};

/// How `init` reaches one cluster, as given by its flags. Secrets are never values: each is
/// the name of an environment variable, written into the file as `env("NAME")`.
#[derive(Debug, Clone, Default)]
pub struct Side {
    /// Brokers, as `host:port`; none for a placeholder.
    pub bootstrap: Vec<String>,
    /// PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL; inferred from the other settings when None.
    pub protocol: Option<String>,
    /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    pub sasl_mechanism: Option<String>,
    pub sasl_username: Option<String>,
    /// The environment variable holding the SASL password.
    pub sasl_password_env: String,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// The environment variable holding the client key's passphrase.
    pub key_password_env: Option<String>,
    /// The AWS region of an MSK cluster with IAM authentication.
    pub aws_iam_region: Option<String>,
}

impl Side {
    /// The security protocol: the one given, or what the other settings need.
    pub fn protocol(&self) -> String {
        if let Some(p) = &self.protocol {
            return p.to_ascii_uppercase();
        }
        let tls = self.ca_file.is_some() || self.cert_file.is_some();
        match (
            self.sasl_mechanism.is_some(),
            self.aws_iam_region.is_some(),
            tls,
        ) {
            (_, true, _) | (true, _, true) => "SASL_SSL",
            (true, _, false) => "SASL_PLAINTEXT",
            (false, false, true) => "SSL",
            (false, false, false) => "PLAINTEXT",
        }
        .to_string()
    }

    /// The environment variables that hold this side's secrets.
    fn secret_vars(&self) -> Vec<&String> {
        self.sasl_mechanism
            .as_ref()
            .map(|_| &self.sasl_password_env)
            .into_iter()
            .chain(self.key_password_env.as_ref())
            .collect()
    }

    /// Checks that each environment variable this side names is one, and that SASL has a user.
    fn check_env_names(&self, side: &str) -> miette::Result<()> {
        for name in self.secret_vars() {
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(miette!(
                    help = "pass the NAME of the environment variable that holds the secret, such as SOURCE_PASSWORD; the file refers to it as env(\"NAME\")",
                    "{side}: \"{name}\" is not an environment variable name"
                ));
            }
        }
        if self.sasl_mechanism.is_some() && self.sasl_username.is_none() {
            return Err(miette!(
                help = format!("add --{side}-sasl-username USER"),
                "{side}: a SASL mechanism needs a user name"
            ));
        }
        Ok(())
    }
}

/// The name a migration from the source at `bootstrap` gets when none is given: the first
/// broker's host (lower case), with its port unless it is one Kafka usually listens on,
/// every character a migration name cannot hold made `-` — so that migrations from several
/// sources into one target differ. `migration` when there is no source to name it after.
pub fn default_name(bootstrap: &[String]) -> String {
    const USUAL_PORTS: &[&str] = &["9092", "9093", "9094", "9096", "9098"];
    let Some(first) = bootstrap.first().map(|b| b.trim()) else {
        return "migration".to_string();
    };
    // `host:port`, `[v6::addr]:port` or a bare host.
    let (host, port) = match first.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => {
            (host, Some(port))
        }
        _ => (first, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut name = host.to_ascii_lowercase();
    if let Some(port) = port.filter(|p| !p.is_empty() && !USUAL_PORTS.contains(p)) {
        name = format!("{name}-{port}");
    }
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    // Topic names stop at 249 characters and the migration's internal topics add to it.
    let name: String = name.chars().take(100).collect();
    let name = name.trim_matches(|c| c == '-' || c == '.');
    if name.is_empty() {
        "migration".to_string()
    } else {
        name.to_string()
    }
}

/// What `init` was asked for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The migration's name.
    pub name: String,
    pub source: Side,
    pub target: Side,
    /// Where the file goes.
    pub out: PathBuf,
    /// Overwrite an existing file.
    pub force: bool,
}

/// The `template` read as a migration, to connect to its source. The target is not
/// connected to, so its secrets need not be set: an unset variable the source does not use
/// reads as a placeholder.
fn source_migration(request: &Request, template: &str) -> miette::Result<crate::config::Migration> {
    let base = request
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let source_vars = request.source.secret_vars();
    let env = |key: &str| {
        std::env::var(key)
            .ok()
            .or_else(|| (!source_vars.iter().any(|v| *v == key)).then(|| "unset".to_string()))
    };
    let name = request.out.display().to_string();
    Ok(crate::config::parse_with_env(
        &name,
        template,
        base,
        &[],
        &env,
    )?)
}

/// Reads the source named by `request` for `init --report`, measuring its throughput over
/// `sample`; writes no file. An error (secrets scrubbed) says the source could not be read.
pub async fn report(
    request: &Request,
    sample: std::time::Duration,
) -> miette::Result<report::SourceReport> {
    request.source.check_env_names("source")?;
    if request.source.bootstrap.is_empty() {
        return Err(miette!(
            help = "name the source's brokers with --source HOST:PORT (and its security flags)",
            "init --report reads a source cluster, and none was named"
        ));
    }
    let migration = source_migration(request, &render::render(request, None))?;
    report::gather(&migration, sample).await.map_err(|e| {
        let e = crate::cluster::ClusterError {
            cause: migration.secrets.scrub(&e.cause),
            ..e
        };
        miette::Report::new(e).wrap_err("init --report: the source could not be read")
    })
}

/// Writes the migration file `request.out`: from the source when it has brokers and answers,
/// a template otherwise. Returns what was done, for the terminal.
pub async fn init(request: &Request) -> miette::Result<String> {
    request.source.check_env_names("source")?;
    request.target.check_env_names("target")?;
    if request.out.exists() && !request.force {
        return Err(miette!(
            help = "pass --force to overwrite it, or --out FILE to write elsewhere",
            "{} exists; init does not overwrite it",
            request.out.display()
        ));
    }
    let template = render::render(request, None);
    let (text, said) = if request.source.bootstrap.is_empty() {
        (
            template,
            "no --source given: a template to fill in".to_string(),
        )
    } else {
        let migration = source_migration(request, &template)?;
        // A source that was named but could not be read is an error, and no file is
        // written: a template in its place would read as success, and the next run would
        // find the file there.
        let found = discover::discover(&migration).await.map_err(|e| {
            let e = crate::cluster::ClusterError {
                cause: migration.secrets.scrub(&e.cause),
                ..e
            };
            miette::Report::new(e).wrap_err(format!(
                "init wrote nothing: the source could not be read (without --source, init writes a template to fill in to {})",
                request.out.display()
            ))
        })?;
        let said = format!("from the source: {}", found.summary());
        (render::render(request, Some(&found)), said)
    };
    std::fs::write(&request.out, &text)
        .map_err(|e| miette!("cannot write {}: {e}", request.out.display()))?;
    Ok(format!(
        "Wrote {} ({said}). Next: kafka-migrate -c {} validate",
        request.out.display(),
        request.out.display()
    ))
}

#[cfg(test)]
mod name_tests {
    use super::default_name;

    fn name(bootstrap: &[&str]) -> String {
        default_name(&bootstrap.iter().map(|b| b.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn a_migration_is_named_after_its_sources_first_broker() {
        assert_eq!(
            name(&["kafka-1.internal:9093", "kafka-2.internal:9093"]),
            "kafka-1.internal"
        );
        assert_eq!(name(&["Kafka.EU-West:9092"]), "kafka.eu-west");
        // Another port tells two clusters on one host apart.
        assert_eq!(name(&["127.0.0.1:39092"]), "127.0.0.1-39092");
        assert_ne!(name(&["127.0.0.1:39092"]), name(&["127.0.0.1:39192"]));
        assert_eq!(name(&["[::1]:9092"]), "1");
        assert_eq!(name(&["broker"]), "broker");
        // Nothing to name it after: the template's name.
        assert_eq!(name(&[]), "migration");
        assert_eq!(name(&["::"]), "migration");
    }

    #[test]
    fn a_derived_name_is_always_a_valid_migration_name() {
        for bootstrap in [
            "kafka-1.internal:9093",
            "b-1.orders.abc123.c2.kafka.eu-west-1.amazonaws.com:9098",
            "weird host!@#:1234",
            "[fe80::1%eth0]:9092",
            &"x".repeat(300),
        ] {
            let name = name(&[bootstrap]);
            let text = format!(
                "name = \"{name}\"\ncluster \"source\" {{ bootstrap_servers = [\"a:1\"] }}\ncluster \"target\" {{ bootstrap_servers = [\"b:1\"] }}\n"
            );
            let parsed = crate::config::parse_with_env(
                "m.hcl",
                &text,
                std::path::Path::new("."),
                &[],
                &|_| None,
            );
            assert!(parsed.is_ok(), "{bootstrap} → {name}: {parsed:?}");
        }
    }
}
