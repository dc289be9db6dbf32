//! `plan`: survey both clusters, make the plan for the requested engine, save it when asked,
//! and with the Connect engine, how the deployed connector configs differ from the wanted.

use std::path::Path;

use miette::miette;

use crate::config::Migration;
use crate::connect::ConnectorDiff;
use crate::plan::{self, Plan};

use super::{engines, Requested};

/// What `plan` tells as it goes.
pub trait Observer {
    /// The plan is made.
    fn planned(&mut self, plan: &Plan);
    /// The plan was saved to `path`.
    fn saved(&mut self, path: &Path);
}

/// What `plan` found.
pub struct Planned {
    pub plan: Plan,
    /// With the Connect engine: the Connect cluster's URL and each connector's config as
    /// deployed against as wanted.
    pub connectors: Option<(String, Vec<ConnectorDiff>)>,
}

impl Planned {
    /// Whether anything would change: on the target, or in a connector's config.
    pub fn has_changes(&self) -> bool {
        self.plan.has_changes()
            || self
                .connectors
                .as_ref()
                .is_some_and(|(_, diffs)| diffs.iter().any(ConnectorDiff::has_changes))
    }
}

/// Plans `migration` for the `requested` engine, saving the plan to `out`. A plan with
/// blockers is an error, after it is told.
pub async fn plan(
    migration: &Migration,
    requested: &Requested,
    out: Option<&Path>,
    observer: &mut dyn Observer,
) -> miette::Result<Planned> {
    let survey = crate::survey::survey(migration, requested.engine, &Default::default()).await?;
    let connectors = engines::connectors(migration, requested, &survey.snapshot)?;
    let plan = survey.plan;
    observer.planned(&plan);
    if let Some(path) = out {
        plan::write_plan_file(&plan, path)?;
        observer.saved(path);
    }
    if !plan.blockers.is_empty() {
        return Err(miette!(
            help = "resolve the blockers listed above, then plan again",
            "the plan has {} blocker(s): apply would refuse it",
            plan.blockers.len()
        ));
    }
    let connectors = match connectors {
        Some(wanted) => Some(engines::connector_diffs(requested, &wanted).await?),
        None => None,
    };
    Ok(Planned { plan, connectors })
}
