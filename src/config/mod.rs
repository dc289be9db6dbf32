//! The migration file: HCL → a typed, validated [`Migration`], with diagnostics that point at
//! the file, line and column; the JSON Schema and README reference generated from the types.
//! Reads files (the migration file and `file()` references) and the environment; never the
//! network, and never decides what a cluster holds.
//!
//! - `model`: the types, with the user docs the schema and reference come from;
//! - `load`: the file's top level, variables and the non-cluster blocks; `cluster`: the
//!   cluster and security blocks; `section`: reading one block body; `eval`: expressions;
//! - `values`: durations, sizes and regular expressions; `tuning`: the ranges tuning values
//!   may take; `secret`: secret values and redaction; `mask`: secrets masked in the text
//!   snippets show; `librdkafka`: the pass-through properties librdkafka takes;
//! - `msk`: the target's `msk` block (which kind of Amazon MSK cluster it is);
//! - `error`: the diagnostic type; `schema`: JSON Schema and README reference;
//! - `positions`: source positions kept outside Kafka (flags, Spark offsets JSON, CSV).

mod arn;
mod cluster;
mod error;
mod eval;
pub mod files;
mod librdkafka;
mod load;
mod mask;
mod model;
pub mod msk;
pub mod names;
pub mod positions;
mod rename;
pub mod schema;
mod secret;
mod section;
mod tuning;
mod values;

use std::path::Path;

pub use arn::MskCluster;
pub use error::ConfigError;
pub use model::*;
pub use msk::{BrokerSize, Msk, MskType, BROKER_SIZES};
pub use rename::{Naming, Rename};
pub use secret::{
    is_secret_property, shown_properties, shown_url, Secret, SecretOrigin, SecretValues,
};
pub use values::{ByteSize, HumanDuration, Pattern, PatternSet};

/// Reads and validates the migration file at `path`; `vars` are `--var NAME=VALUE` pairs.
pub fn load(path: &Path, vars: &[(String, String)]) -> Result<Migration, ConfigError> {
    let (name, text, base) = read(path)?;
    parse(&name, &text, &base, vars)
}

/// [`load`] for commands that do not connect (`validate`, `export connect`): an `env()` whose
/// variable is unset reads as the reference `${env:NAME}` (what a Kafka Connect worker
/// resolves), and [`Migration::warnings`] names it with its position. Where such a value
/// cannot stand (a broker address, a choice), the error is the one [`load`] gives.
pub fn load_offline(path: &Path, vars: &[(String, String)]) -> Result<Migration, ConfigError> {
    let (name, text, base) = read(path)?;
    let unset = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let env = |key: &str| {
        std::env::var(key).ok().or_else(|| {
            unset.borrow_mut().insert(key.to_string());
            Some(format!("${{env:{key}}}"))
        })
    };
    let mut migration = match parse_with_env(&name, &text, &base, vars, &env) {
        Ok(m) => m,
        Err(_) if !unset.borrow().is_empty() => return parse(&name, &text, &base, vars),
        Err(e) => return Err(e),
    };
    migration.unset_env = unset
        .into_inner()
        .into_iter()
        .map(|var| match position_of_env(&text, &var) {
            Some((line, column)) => format!("{name}:{line}:{column}: environment variable {var} is not set: read as ${{env:{var}}} for this command; plan, apply, status and verify need it"),
            None => format!("{name}: environment variable {var} is not set: read as ${{env:{var}}} for this command; plan, apply, status and verify need it"),
        })
        .collect();
    Ok(migration)
}

/// Line and column (1-based, in characters) of the first `env("VAR")` in `text`.
fn position_of_env(text: &str, var: &str) -> Option<(usize, usize)> {
    let at = text.find(&format!("\"{var}\""))?;
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, column))
}

/// The migration file's name (for messages), text and folder (`file()` is relative to it).
fn read(path: &Path) -> Result<(String, String, std::path::PathBuf), ConfigError> {
    let text = files::read_text(path, files::MAX_MIGRATION_FILE).map_err(|e| {
        if e.refused() {
            ConfigError::file(
                format!("the migration file {e}"),
                Some("a migration file is a regular HCL text file of up to 16 MiB".into()),
            )
        } else {
            ConfigError::file(
                format!(
                    "cannot read the migration file {}: {}",
                    e.path.display(),
                    e.reason()
                ),
                Some(
                    "pass the file with -c FILE (default: migration.hcl in the current folder)"
                        .into(),
                ),
            )
        }
    })?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok((path.display().to_string(), text, base.to_path_buf()))
}

/// Validates migration-file `text` (named `name` in messages; `file()` relative to `base`),
/// reading the process environment for `env()`.
pub fn parse(
    name: &str,
    text: &str,
    base: &Path,
    vars: &[(String, String)],
) -> Result<Migration, ConfigError> {
    load::parse(name, text, base, vars, &|key| std::env::var(key).ok())
}

/// Like [`parse`] with an explicit environment (tests).
pub fn parse_with_env(
    name: &str,
    text: &str,
    base: &Path,
    vars: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Migration, ConfigError> {
    load::parse(name, text, base, vars, env)
}

/// Splits `--var` arguments of the form NAME=VALUE.
pub fn parse_vars(args: &[String]) -> Result<Vec<(String, String)>, ConfigError> {
    args.iter()
        .map(|arg| match arg.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            // The argument is not echoed: it may be a bare secret value.
            _ => Err(ConfigError::file(
                "a --var argument is not NAME=VALUE (its text is not shown: it may be a secret)",
                Some("pass each variable as --var NAME=VALUE".into()),
            )),
        })
        .collect()
}

/// Reads a `--var-file`: `name = value` attributes (HCL, like Terraform's `.tfvars`), each a
/// string, a number or a boolean, in the order written. Values are not echoed in errors: they
/// may be secrets.
pub fn read_var_file(path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::file(
            format!("cannot read the variables file {shown}: {e}"),
            Some("pass an existing file of `name = value` lines to --var-file".into()),
        )
    })?;
    let body: hcl::Body = hcl::from_str(&text).map_err(|e| {
        ConfigError::file(
            format!("{shown} is not a file of `name = value` lines: {e}"),
            Some("write one `name = \"value\"` per line, as in a Terraform .tfvars file".into()),
        )
    })?;
    let mut vars = Vec::new();
    for structure in body.into_inner() {
        let hcl::Structure::Attribute(attribute) = structure else {
            return Err(ConfigError::file(
                format!("{shown} holds a block: a variables file holds only `name = value` lines"),
                None,
            ));
        };
        let name = attribute.key.to_string();
        let value = match attribute.expr {
            hcl::Expression::String(s) => s,
            hcl::Expression::Number(n) => n.to_string(),
            hcl::Expression::Bool(b) => b.to_string(),
            _ => {
                return Err(ConfigError::file(
                    format!("{shown}: variable \"{name}\" is not a string, a number or a boolean"),
                    Some("give it as a quoted string".into()),
                ))
            }
        };
        vars.push((name, value));
    }
    Ok(vars)
}

#[cfg(test)]
mod tests;
