//! The saved plan file: the plan's JSON form, which holds no secrets (it names topics, configs,
//! ACLs and offsets, never credentials), with a format version checked on reading.

use std::path::{Path, PathBuf};

use super::model::{Plan, FORMAT_VERSION};
use crate::config::files;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PlanFileError {
    #[error("could not read the plan file {}: {}", .file.path.display(), .file.reason())]
    #[diagnostic(help("a plan file is the regular file `kafka-migrate plan --out FILE` wrote"))]
    Read { file: files::FileError },
    #[error("could not write the plan file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a kafka-migrate plan file: {source}")]
    #[diagnostic(help("create one with `kafka-migrate plan --out FILE`"))]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} has plan format {found}; this kafka-migrate reads format {FORMAT_VERSION}")]
    #[diagnostic(help("plan again with this version of kafka-migrate"))]
    Version { path: PathBuf, found: String },
}

/// Writes `plan` to `path` as pretty JSON (atomically: a crash leaves the old file or the new).
pub fn write_plan_file(plan: &Plan, path: &Path) -> Result<(), PlanFileError> {
    let write = |source| PlanFileError::Write {
        path: path.to_path_buf(),
        source,
    };
    let json = serde_json::to_vec_pretty(plan)
        .map_err(std::io::Error::other)
        .map_err(write)?;
    let partial = path.with_extension("partial");
    std::fs::write(&partial, json).map_err(write)?;
    std::fs::rename(&partial, path).map_err(write)
}

pub fn read_plan_file(path: &Path) -> Result<Plan, PlanFileError> {
    let text = files::read_bounded(path, files::MAX_PLAN_FILE)
        .map_err(|file| PlanFileError::Read { file })?;
    let version: serde_json::Value =
        serde_json::from_slice(&text).map_err(|source| PlanFileError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
    let found = version
        .get("format_version")
        .and_then(|v| v.as_str())
        .unwrap_or("none")
        .to_string();
    if found.split('.').next() != FORMAT_VERSION.split('.').next() {
        return Err(PlanFileError::Version {
            path: path.to_path_buf(),
            found,
        });
    }
    serde_json::from_value(version).map_err(|source| PlanFileError::Parse {
        path: path.to_path_buf(),
        source,
    })
}
