//! Cutover checks: may consumers and producers switch to the target now? Every check reads
//! both clusters (never writes either) and returns its verdict with evidence naming the topic,
//! partition or group concerned; the report is READY only when no check failed.
//!
//! - `checks`: the checks computed from a survey (connectivity, topics, configs, ACLs, lag,
//!   consumer groups), pure;
//! - `quiet`: whether the source's end offsets stood still for `cutover.quiet_period`;
//! - `parity`: record count and order-sensitive digest per partition over the replicated range;
//! - `schemas`: records framed with schema registry ids resolve in the target's registry
//!   topic with the source's schemas; `registry`: that topic read as the registries read it;
//! - `findings`: the typed evidence (topic, partition, group, offsets, counts) the lag, quiet,
//!   parity and group checks give; `render` words it.

mod checks;
mod findings;
mod parity;
mod quiet;
mod registry;
mod schemas;

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cluster::native::IsolationLevel;
use crate::config::{DataCheck, Migration};
use crate::plan;
use crate::replicate::Status;
use crate::state::Progress;

pub use findings::{Fact, Finding, Level};
pub use parity::{digest_partitions, DigestRange, ParityError, PartitionDigest};
pub use quiet::QuietWatch;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
    /// Not run: turned off by the migration file, or impossible without an earlier check.
    Skip,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "PASS",
            CheckStatus::Warn => "WARN",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Skip => "SKIP",
        }
    }
}

/// One check: what was checked, its outcome, a one-line summary and the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Check {
    /// The check's name, e.g. "lag" or "consumer groups".
    pub name: &'static str,
    pub status: CheckStatus,
    pub summary: String,
    /// The evidence as lines of text, failures first, then warnings, then notes, each naming
    /// its topic, partition or group. In the JSON output every line: `findings` worded, then
    /// the lines given as text only (by checks whose evidence is not typed, and errors). In
    /// the value a check returns, only the latter: `render` words the findings.
    pub evidence: Vec<String>,
    /// The evidence as data, in the same order: given by the lag, source quiet, data parity,
    /// schema ids and consumer groups checks.
    pub findings: Vec<Finding>,
}

/// One piece of evidence while a check is being made: typed, or text.
#[derive(Debug)]
enum Item {
    Fact(Fact),
    Text(String),
}

impl From<Fact> for Item {
    fn from(fact: Fact) -> Item {
        Item::Fact(fact)
    }
}

impl From<String> for Item {
    fn from(text: String) -> Item {
        Item::Text(text)
    }
}

/// Findings of one check while it is being made.
#[derive(Debug, Default)]
struct Findings {
    failures: Vec<Item>,
    warnings: Vec<Item>,
    notes: Vec<Item>,
}

impl Findings {
    /// The plan's warnings of `kind`, as warnings of this check.
    fn warn_of(&mut self, plan: &plan::Plan, kind: plan::WarningKind) {
        for w in plan.warnings.iter().filter(|w| w.kind == kind) {
            self.warnings
                .push(format!("{}: {}", w.subject, w.message).into());
        }
    }

    /// A finished check: FAIL with `failed` when anything failed, WARN when something
    /// deserves a look, PASS with `passed` otherwise.
    fn check(
        self,
        name: &'static str,
        passed: String,
        failed: impl FnOnce(usize) -> String,
    ) -> Check {
        let (status, summary) = if !self.failures.is_empty() {
            (CheckStatus::Fail, failed(self.failures.len()))
        } else if !self.warnings.is_empty() {
            (CheckStatus::Warn, passed)
        } else {
            (CheckStatus::Pass, passed)
        };
        let (mut evidence, mut findings) = (Vec::new(), Vec::new());
        let levels = [
            (Level::Failure, self.failures),
            (Level::Warning, self.warnings),
            (Level::Note, self.notes),
        ];
        for (level, items) in levels {
            for item in items {
                match item {
                    Item::Fact(fact) => findings.push(Finding { level, fact }),
                    Item::Text(text) => evidence.push(text),
                }
            }
        }
        Check {
            name,
            status,
            summary,
            evidence,
            findings,
        }
    }
}

impl Check {
    /// A check with its evidence as text only.
    fn of(
        name: &'static str,
        status: CheckStatus,
        summary: impl Into<String>,
        evidence: Vec<String>,
    ) -> Check {
        Check {
            name,
            status,
            summary: summary.into(),
            evidence,
            findings: Vec::new(),
        }
    }

    fn skip(name: &'static str, why: impl Into<String>) -> Check {
        Check::of(name, CheckStatus::Skip, why, Vec::new())
    }

    /// A check that could not be made: FAIL, saying why, with the error as evidence.
    fn failed(name: &'static str, summary: impl Into<String>, error: String) -> Check {
        Check::of(name, CheckStatus::Fail, summary, vec![error])
    }
}

/// Every check and the verdict.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub migration: String,
    pub ready: bool,
    /// "READY FOR CUTOVER" or "NOT READY".
    pub verdict: &'static str,
    pub checks: Vec<Check>,
    /// When the migration was cut over (`cutover` recorded its point): the target is the
    /// system of record since, in milliseconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut_over_at_ms: Option<i64>,
}

impl Report {
    /// The report, saying when the migration was cut over if `progress` records it.
    fn cut_over(mut self, progress: Option<&Progress>) -> Report {
        self.cut_over_at_ms = progress
            .and_then(|p| p.cutover.as_ref())
            .filter(|c| c.is_cut_over())
            .and_then(|c| c.point.as_ref())
            .map(|p| p.at_ms);
        self
    }

    fn new(migration: &str, checks: Vec<Check>) -> Report {
        let ready = checks.iter().all(|c| c.status != CheckStatus::Fail);
        Report {
            migration: migration.to_string(),
            ready,
            verdict: if ready {
                "READY FOR CUTOVER"
            } else {
                "NOT READY"
            },
            checks,
            cut_over_at_ms: None,
        }
    }

    /// Whether every check could run (a cluster that cannot be reached leaves the rest
    /// unchecked).
    pub fn complete(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|c| c.name == checks::CONNECTIVITY && c.status == CheckStatus::Fail)
    }
}

const CHECK_NAMES: [&str; 10] = [
    checks::CONNECTIVITY,
    checks::TOPICS,
    checks::CONFIGS,
    checks::ACLS,
    checks::QUOTAS,
    checks::LAG,
    quiet::NAME,
    parity::NAME,
    schemas::NAME,
    checks::GROUPS,
];

/// Runs every check once. `quiet` carries the source's end offsets across runs (`--watch`);
/// a single run watches the source for `cutover.quiet_period` before it answers.
pub async fn verify(migration: &Migration, quiet: &mut QuietWatch) -> Report {
    let survey =
        match crate::survey::survey(migration, plan::Engine::Native, &Default::default()).await {
            Ok(survey) => survey,
            Err(e) => {
                let mut all = vec![checks::unreachable(&e)];
                all.extend(
                    CHECK_NAMES[1..]
                        .iter()
                        .map(|name| Check::skip(name, "needs both clusters")),
                );
                return Report::new(&migration.name, all);
            }
        };
    quiet.observe(
        &quiet::ends(&survey.snapshot.source_inventory),
        Instant::now(),
    );
    let progress = survey.snapshot.progress.clone().unwrap_or_default();
    let status = Status::from_inventory(
        &migration.name,
        &survey.snapshot.source_inventory,
        &progress,
    );
    let mut all = standing_checks(migration, &survey);
    all.push(checks::lag(
        migration,
        &status,
        survey.snapshot.progress.is_some(),
    ));
    let parity = data_parity(migration, &survey).await;
    let schema_ids = schemas::check(migration, &survey).await;
    // The source must have stood still for the whole quiet period.
    let quiet_check = loop {
        let now = Instant::now();
        let wait = quiet.remaining(migration.cutover.quiet_period.0, now);
        if wait > Duration::ZERO && !quiet.moved() {
            tokio::time::sleep(wait).await;
        }
        match survey
            .snapshot
            .source
            .end_offsets(
                survey.snapshot.source_inventory.partitions(),
                IsolationLevel::ReadUncommitted,
            )
            .await
        {
            Ok(ends) => quiet.observe(&ends, Instant::now()),
            Err(e) => {
                break Check::failed(
                    quiet::NAME,
                    "could not list the source's end offsets",
                    e.to_string(),
                );
            }
        }
        if quiet.moved()
            || quiet.remaining(migration.cutover.quiet_period.0, Instant::now()) == Duration::ZERO
        {
            break quiet.check(migration.cutover.quiet_period.0, Instant::now());
        }
    };
    all.push(quiet_check);
    all.push(parity);
    all.push(schema_ids);
    all.push(checks::groups(
        migration,
        &survey.snapshot.source_inventory,
        &survey.snapshot.target_inventory,
        &survey.plan,
    ));
    Report::new(&migration.name, all).cut_over(survey.snapshot.progress.as_ref())
}

/// The checks that do not need the source quiet — connectivity, topics, configs, ACLs: the
/// preflight of `cutover`.
pub async fn preflight(migration: &Migration) -> Report {
    match crate::survey::survey(migration, plan::Engine::Native, &Default::default()).await {
        Ok(survey) => Report::new(&migration.name, standing_checks(migration, &survey)),
        Err(e) => Report::new(&migration.name, vec![checks::unreachable(&e)]),
    }
}

fn standing_checks(migration: &Migration, survey: &crate::survey::Survey) -> Vec<Check> {
    let (source, target) = (
        &survey.snapshot.source_inventory,
        &survey.snapshot.target_inventory,
    );
    vec![
        checks::connectivity(source, target, &survey.plan),
        checks::topics(migration, source, target, &survey.plan),
        checks::configs(&survey.plan),
        checks::acls(migration, source, &survey.plan),
        checks::quotas(migration, &survey.plan),
    ]
}

/// The windows of replicated records `cutover.data_check` reads, in rounds (see
/// [`parity::ranges`]).
fn windows(
    migration: &Migration,
    survey: &crate::survey::Survey,
    seed: u64,
) -> Vec<Vec<parity::Window>> {
    parity::ranges(
        migration.cutover.data_check,
        &survey.snapshot.source_inventory,
        &survey.snapshot.target_inventory,
        &migration.topics.rename,
        survey
            .snapshot
            .progress
            .as_ref()
            .unwrap_or(&Progress::default()),
        seed,
    )
}

/// The data parity check alone (`cutover.data_check` decides how much is read).
pub async fn data_parity(migration: &Migration, survey: &crate::survey::Survey) -> Check {
    if migration.cutover.data_check == DataCheck::None {
        return Check::skip(parity::NAME, "cutover.data_check = \"none\"");
    }
    let seed = parity::seed();
    let ranges = windows(migration, survey, seed);
    if ranges.is_empty() {
        return Check::skip(parity::NAME, "nothing replicated yet to compare");
    }
    let source = crate::cluster::factory::properties(migration, crate::cluster::Role::Source);
    let target = crate::cluster::factory::properties(migration, crate::cluster::Role::Target);
    let name = migration.name.clone();
    let mode = migration.cutover.data_check;
    let result = tokio::task::spawn_blocking(move || {
        parity::compare(&source, &target, &name, &ranges, mode, seed)
    })
    .await;
    match result {
        Ok(Ok(check)) => check,
        Ok(Err(e)) => Check::failed(
            parity::NAME,
            "could not read the replicated records",
            e.to_string(),
        ),
        Err(e) => Check::failed(parity::NAME, "the data check stopped", e.to_string()),
    }
}

#[cfg(test)]
mod tests;
