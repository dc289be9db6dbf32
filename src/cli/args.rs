//! Flag definitions. Help text, completions and the README's CLI section come from here.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Migrate a self-managed Apache Kafka cluster to Amazon MSK (or any Kafka cluster).
///
/// Describe the migration in one HCL file, then: `validate` it offline, `plan` to see what will
/// change on the target, `apply` to create topics, configs, ACLs and group offsets and replicate
/// every record, `status` to follow progress, `verify` to know when it is safe to cut over.
#[derive(Debug, Parser)]
#[command(name = "kafka-migrate", version, propagate_version = true)]
pub struct Cli {
    /// The migration file.
    #[arg(
        short,
        long,
        global = true,
        default_value = "migration.hcl",
        env = "KAFKA_MIGRATE_CONFIG"
    )]
    pub config: PathBuf,

    /// Set a variable declared in the migration file (`--var name=value`); may be repeated.
    #[arg(long = "var", global = true, value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// Set variables from a file of `name = value` lines (HCL, like Terraform's .tfvars:
    /// strings, numbers, booleans); may be repeated, and a `--var` wins over a file.
    #[arg(long = "var-file", global = true, value_name = "FILE")]
    pub var_files: Vec<PathBuf>,

    /// More log output on standard error (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Log lines on standard error as text or as JSON objects, one per line (for log
    /// collectors in containers).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "KAFKA_MIGRATE_LOG_FORMAT"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

// `init`'s flags for two clusters make its variant the largest; the enum is built once.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented migration file from what the source cluster holds (or a template);
    /// with --report, report what the source holds and how it is used instead, with the MSK
    /// brokers it needs.
    #[command(
        after_help = "Examples:\n  kafka-migrate init --source kafka-1:9092 --target b-1.msk:9098 --target-aws-iam-region us-east-1\n  SOURCE_PASSWORD=… kafka-migrate init --source kafka-1:9093 --source-sasl-mechanism scram-sha-512 --source-sasl-username admin --source-ca-file ca.pem\n  kafka-migrate init --out template.hcl\n  kafka-migrate init --report --source kafka-1:9092 --sample 2m --json > report.json"
    )]
    Init {
        /// The migration's name; by default one derived from the source's first broker
        /// (its host, and its port unless a usual Kafka port), so that migrations from
        /// several sources into one target get distinct names.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        source: InitSource,
        #[command(flatten)]
        target: InitTarget,
        /// The file to write; by default the --config path (migration.hcl).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
        /// Write no file: report the source's topics (partitions, replication factor, size on
        /// disk, retention, throughput over --sample), the clients producing and consuming
        /// each, the totals and the recommended MSK broker type and count.
        #[arg(long, requires = "source_bootstrap", conflicts_with_all = ["out", "force"])]
        report: bool,
        /// How long --report measures the throughput, such as "30s" or "5m".
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, requires = "report")]
        sample: std::time::Duration,
        /// Print the report as JSON (schemas/init-report.schema.json).
        #[arg(long, requires = "report")]
        json: bool,
    },

    /// Check the migration file offline: syntax, types, references, regexes, secrets.
    #[command(after_help = "Example:\n  kafka-migrate validate -c migration.hcl")]
    Validate {
        /// Print the validated migration as JSON (secrets redacted).
        #[arg(long)]
        json: bool,
    },

    /// Read both clusters and show every change the migration will make on the target.
    #[command(
        after_help = "Examples:\n  kafka-migrate plan\n  kafka-migrate plan --out plan.json\n  kafka-migrate plan --json | jq '.actions | length'\n  kafka-migrate plan --engine connect --connect-url http://connect:8083"
    )]
    Plan {
        /// Save the plan (no secrets, fingerprints of both clusters) for `apply`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print the plan as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Exit 0 when there is nothing to change, 2 when there are changes, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },

    /// Show a plan saved by `plan --out` (offline: no cluster is contacted, no migration file
    /// read), as `plan` showed it or as JSON.
    #[command(
        after_help = "Examples:\n  kafka-migrate show plan.json\n  kafka-migrate show plan.json --json | jq '.actions | length'"
    )]
    Show {
        /// The plan file.
        plan: PathBuf,
        /// Print the plan as JSON (as `plan --json` does).
        #[arg(long)]
        json: bool,
    },

    /// Create what is missing on the target and replicate records until stopped or synced.
    #[command(
        after_help = "Examples:\n  kafka-migrate apply plan.json\n  kafka-migrate apply --auto-approve --until-synced\n  kafka-migrate apply --engine connect --connect-url http://connect:8083"
    )]
    Apply {
        /// A plan saved by `plan --out`; without it, apply plans and asks for confirmation.
        plan: Option<PathBuf>,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
        /// Exit once every partition has caught up with the source.
        #[arg(long)]
        until_synced: bool,
        /// Write what happens as JSON, one object per line (needs --auto-approve or a saved
        /// plan); schemas/apply-events.schema.json describes the lines.
        #[arg(long)]
        json: bool,
        /// Serve Prometheus metrics at http://HOST:PORT/metrics while replicating.
        #[arg(long, value_name = "HOST:PORT")]
        metrics_addr: Option<std::net::SocketAddr>,
        /// Abandon a recorded cutover (the source is the system of record again) and
        /// replicate forward; without it, apply refuses to run after `cutover`.
        #[arg(long)]
        abandon_cutover: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },

    /// Show replication lag per topic and partition and consumer group sync state.
    #[command(
        after_help = "Examples:\n  kafka-migrate status --json\n  kafka-migrate status --watch"
    )]
    Status {
        /// Print status as JSON.
        #[arg(long)]
        json: bool,
        /// Show the status again every 5 seconds until Ctrl-C.
        #[arg(long)]
        watch: bool,
    },

    /// Run the cutover checks; exit 0 when READY FOR CUTOVER, 2 when NOT READY, 1 when a
    /// cluster could not be read.
    #[command(
        after_help = "Examples:\n  kafka-migrate verify\n  kafka-migrate verify --json\n  kafka-migrate verify --watch --timeout 1h"
    )]
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Check again every 10 seconds until ready (or until --timeout).
        #[arg(long)]
        watch: bool,
        /// How long --watch waits for READY, such as "30m" or "2h".
        #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
        timeout: std::time::Duration,
    },

    /// Switch to the target through gates: preflight checks, the source quiet (naming what
    /// still writes or consumes), drain, verify READY, then record the cutover point and show
    /// what to switch; exit 0 when cut over, 2 when a gate did not pass, 1 on error.
    #[command(
        after_help = "Examples:\n  kafka-migrate cutover --dry-run\n  kafka-migrate cutover\n  kafka-migrate cutover --timeout 1h --json"
    )]
    Cutover {
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
        /// Check every gate (preflight, the source quiet, verify; the drain is told, not run)
        /// and record nothing: exit 0 when every gate passes, 2 when one does not.
        #[arg(long)]
        dry_run: bool,
        /// How long to wait for the source to go quiet, such as "30m" or "2h".
        #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
        timeout: std::time::Duration,
    },

    /// Go back to the source after a cutover with failback: the cutover's gates in reverse
    /// (target quiet, drain to the source, verify in reverse), then record the rollback
    /// point; exit 0 when rolled back, 2 when a gate did not pass, 1 on error.
    #[command(
        after_help = "Examples:\n  kafka-migrate rollback\n  kafka-migrate rollback --timeout 1h --json"
    )]
    Rollback {
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
        /// How long to wait for the target to go quiet, such as "30m" or "2h".
        #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
        timeout: std::time::Duration,
    },

    /// Remove what the migration created on the target: its internal topics, and the topics
    /// it created that hold nothing but its own records (proved from its recorded progress
    /// against the target's offsets); any other topic is refused, named with why. Refused
    /// after a cutover and while an apply runs. Exit 0 when done, 2 when a topic was refused,
    /// 1 on error.
    #[command(
        after_help = "Examples:\n  kafka-migrate destroy\n  kafka-migrate destroy --auto-approve --json"
    )]
    Destroy {
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
        /// Print the outcome as JSON (needs --auto-approve).
        #[arg(long, requires = "auto_approve")]
        json: bool,
    },

    /// Export the migration for another engine or system.
    #[command(
        after_help = "Examples:\n  kafka-migrate export connect --dir connect/\n  kafka-migrate export iam-policy\n  kafka-migrate export scram-secrets > msk-scram.tf\n  kafka-migrate export offset-map --output offset-map.json"
    )]
    Export {
        #[command(subcommand)]
        target: ExportTarget,
    },

    /// Source positions kept outside Kafka (Flink, Spark, exactly-once sinks) → exact target
    /// offsets.
    #[command(
        after_help = "Examples:\n  kafka-migrate offsets translate --position orders:0:42\n  kafka-migrate offsets translate --file offsets.json --format spark"
    )]
    Offsets {
        #[command(subcommand)]
        command: OffsetsCommand,
    },

    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  kafka-migrate completions bash > /etc/bash_completion.d/kafka-migrate"
    )]
    Completions {
        /// The shell to generate completions for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Which engine replicates: kafka-migrate itself, or MirrorMaker 2 on a Kafka Connect cluster.
#[derive(Clone, clap::Args)]
pub struct EngineArgs {
    /// The replication engine.
    #[arg(long, value_enum, default_value_t = Engine::Native)]
    pub engine: Engine,
    /// The Kafka Connect REST API, such as https://connect:8083 (with --engine connect).
    #[arg(long, value_name = "URL", required_if_eq("engine", "connect"))]
    pub connect_url: Option<String>,
    /// User for the Connect REST API's basic authentication; the password comes from
    /// $KAFKA_MIGRATE_CONNECT_PASSWORD or --connect-password-file.
    #[arg(long, value_name = "USER", env = "KAFKA_MIGRATE_CONNECT_USER")]
    pub connect_user: Option<String>,
    /// A file holding the Connect REST API's password (its first line).
    #[arg(long, value_name = "FILE", requires = "connect_user")]
    pub connect_password_file: Option<std::path::PathBuf>,
    /// A CA certificate (PEM) to trust for an https Connect REST API, on top of the system's.
    #[arg(long, value_name = "FILE")]
    pub connect_ca_file: Option<std::path::PathBuf>,
}

/// As the operations see it: the Connect URL without the credentials it may carry.
impl std::fmt::Debug for EngineArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.requested().fmt(f)
    }
}

impl EngineArgs {
    /// The engine as the operations know it.
    pub fn requested(&self) -> crate::ops::Requested {
        crate::ops::Requested {
            engine: match self.engine {
                Engine::Native => crate::plan::Engine::Native,
                Engine::Connect => crate::plan::Engine::Connect,
            },
            connect_url: self.connect_url.clone(),
            connect_user: self.connect_user.clone(),
            connect_password_file: self.connect_password_file.clone(),
            connect_ca_file: self.connect_ca_file.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// kafka-migrate replicates in this process.
    Native,
    /// MirrorMaker 2 connectors on a Kafka Connect cluster (see `export connect`).
    Connect,
}

#[derive(Debug, Subcommand)]
pub enum ExportTarget {
    /// Kafka Connect worker properties and MirrorMaker 2 connector configs.
    Connect {
        /// Folder to write the files into.
        #[arg(long, default_value = "connect")]
        dir: PathBuf,
    },
    /// IAM policy documents equivalent to the source's ACLs, for an IAM-auth MSK target.
    IamPolicy {
        /// Output format.
        #[arg(long, value_enum, default_value_t = PolicyFormat::Json)]
        format: PolicyFormat,
    },
    /// The source's SCRAM users as Terraform for MSK: an `AmazonMSK_` Secrets Manager secret
    /// per user (password left as a variable) and the secrets' association with the cluster.
    ScramSecrets,
    /// The offset map (where each replicated source record landed on the target) as JSON,
    /// for `offsets translate --map` once the source is gone: the one recorded at cutover,
    /// or taken now (reading both clusters' logs whole) and recorded.
    OffsetMap {
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// `offsets` subcommands.
#[derive(Debug, Subcommand)]
pub enum OffsetsCommand {
    /// Print where source positions land on the target: by walking both clusters' logs while
    /// the source answers, else with the offset map recorded at cutover (or by `export
    /// offset-map`). Exit 0 when every position translated, 2 when one is pending or unknown.
    #[command(
        after_help = "Examples:\n  kafka-migrate offsets translate --position orders:0:42 --position orders:1:17\n  kafka-migrate offsets translate --file checkpoint-offsets.json --format spark\n  kafka-migrate offsets translate --file positions.csv --map offset-map.json --json"
    )]
    Translate {
        /// A source position (repeatable).
        #[arg(long = "position", value_name = "TOPIC:PARTITION:OFFSET", value_parser = crate::config::positions::parse_position)]
        positions: Vec<crate::config::positions::SourcePosition>,
        /// A file of positions: Spark offsets JSON ({"topic":{"partition":offset}}) or CSV
        /// (topic,partition,offset).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Translate with this exported offset map (`export offset-map`), contacting no
        /// cluster.
        #[arg(long, value_name = "FILE", conflicts_with = "from_map")]
        map: Option<PathBuf>,
        /// Translate with the offset map recorded on the target even if the source answers.
        #[arg(long)]
        from_map: bool,
        /// Print the report as JSON.
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// Print the target offsets in this form (positions without one go to standard
        /// error).
        #[arg(long, value_enum)]
        format: Option<PositionsFormat>,
    },
}

/// A form positions are printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PositionsFormat {
    /// {"topic":{"partition":offset}}, as Spark keeps them.
    Spark,
    /// topic,partition,offset lines with a header.
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PolicyFormat {
    Json,
}

/// The flags of `init` for one cluster, prefixed `--source` or `--target`. Secrets are never
/// given as values: the file refers to the named environment variable.
macro_rules! init_cluster_flags {
    ($name:ident, $side:literal, $password:literal) => {
        #[derive(Debug, Clone, clap::Args)]
        pub struct $name {
            #[arg(
                long = $side,
                id = concat!($side, "_bootstrap"),
                value_name = "HOST:PORT",
                value_delimiter = ',',
                help = concat!("The ", $side, " cluster's brokers (comma-separated).")
            )]
            pub bootstrap: Vec<String>,
            #[arg(
                long = concat!($side, "-protocol"),
                id = concat!($side, "_protocol"),
                value_parser = clap::builder::PossibleValuesParser::new(["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"]),
                ignore_case = true,
                help = "Security protocol; by default what the other flags need (SASL_SSL with SASL and a CA, …)."
            )]
            pub protocol: Option<String>,
            #[arg(
                long = concat!($side, "-sasl-mechanism"),
                id = concat!($side, "_sasl_mechanism"),
                value_parser = clap::builder::PossibleValuesParser::new(["plain", "scram-sha-256", "scram-sha-512"]),
                ignore_case = true,
                help = "SASL mechanism."
            )]
            pub sasl_mechanism: Option<String>,
            #[arg(
                long = concat!($side, "-sasl-username"),
                id = concat!($side, "_sasl_username"),
                value_name = "USER",
                help = "SASL user name."
            )]
            pub sasl_username: Option<String>,
            #[arg(
                long = concat!($side, "-sasl-password-env"),
                id = concat!($side, "_sasl_password_env"),
                value_name = "VAR",
                default_value = $password,
                help = "Environment variable holding the SASL password (written as env(\"VAR\"))."
            )]
            pub sasl_password_env: String,
            #[arg(
                long = concat!($side, "-ca-file"),
                id = concat!($side, "_ca_file"),
                value_name = "PEM",
                help = "CA certificate(s) to trust."
            )]
            pub ca_file: Option<PathBuf>,
            #[arg(
                long = concat!($side, "-cert-file"),
                id = concat!($side, "_cert_file"),
                value_name = "PEM",
                help = "Client certificate for mTLS."
            )]
            pub cert_file: Option<PathBuf>,
            #[arg(
                long = concat!($side, "-key-file"),
                id = concat!($side, "_key_file"),
                value_name = "PEM",
                help = "Client private key for mTLS."
            )]
            pub key_file: Option<PathBuf>,
            #[arg(
                long = concat!($side, "-key-password-env"),
                id = concat!($side, "_key_password_env"),
                value_name = "VAR",
                help = "Environment variable holding the client key's passphrase."
            )]
            pub key_password_env: Option<String>,
            #[arg(
                long = concat!($side, "-aws-iam-region"),
                id = concat!($side, "_aws_iam_region"),
                value_name = "REGION",
                help = "Amazon MSK IAM authentication in this AWS region."
            )]
            pub aws_iam_region: Option<String>,
        }

        impl $name {
            pub fn side(&self) -> crate::init::Side {
                crate::init::Side {
                    bootstrap: self.bootstrap.clone(),
                    protocol: self.protocol.clone(),
                    sasl_mechanism: self.sasl_mechanism.clone(),
                    sasl_username: self.sasl_username.clone(),
                    sasl_password_env: self.sasl_password_env.clone(),
                    ca_file: self.ca_file.clone(),
                    cert_file: self.cert_file.clone(),
                    key_file: self.key_file.clone(),
                    key_password_env: self.key_password_env.clone(),
                    aws_iam_region: self.aws_iam_region.clone(),
                }
            }
        }
    };
}

init_cluster_flags!(InitSource, "source", "SOURCE_PASSWORD");
init_cluster_flags!(InitTarget, "target", "TARGET_PASSWORD");

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::config::HumanDuration::parse(text).map(|d| d.0)
}

impl Command {
    /// The subcommand as the user typed it, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Init { .. } => "init",
            Command::Validate { .. } => "validate",
            Command::Plan { .. } => "plan",
            Command::Show { .. } => "show",
            Command::Apply { .. } => "apply",
            Command::Status { .. } => "status",
            Command::Verify { .. } => "verify",
            Command::Cutover { .. } => "cutover",
            Command::Rollback { .. } => "rollback",
            Command::Destroy { .. } => "destroy",
            Command::Export {
                target: ExportTarget::Connect { .. },
            } => "export connect",
            Command::Export {
                target: ExportTarget::IamPolicy { .. },
            } => "export iam-policy",
            Command::Export {
                target: ExportTarget::ScramSecrets,
            } => "export scram-secrets",
            Command::Export {
                target: ExportTarget::OffsetMap { .. },
            } => "export offset-map",
            Command::Offsets { .. } => "offsets translate",
            Command::Completions { .. } => "completions",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn flag_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
