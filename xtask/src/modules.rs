//! `modules`: the library's module dependency table, read from the `crate::` paths in
//! `src/`, checked against the layering in `src/lib.rs`: each module may use only modules
//! below it, so the graph has no cycle and no upward edge; and names a few things only some
//! layers or files may.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Result};

/// The layers, top to bottom. A module may use the ones after it.
#[rustfmt::skip]
pub const LAYERS: [&str; 18] = [
    "cli", "render", "ops", "cutover", "verify", "apply", "connect", "replicate", "survey",
    "groups", "plan", "init", "state", "testing", "cluster", "auth", "config", "quote",
];

/// What a layer must never name: the command line talks to no cluster and builds no runtime
/// (the binary's entry does), the plan reads nothing and awaits nothing; only the binary's
/// entry ends the process.
const FORBIDDEN: [(&str, &[&str]); 3] = [
    (
        "cli",
        &[
            "rdkafka::",
            "ClusterClient",
            "tokio::runtime",
            "process::exit",
        ],
    ),
    (
        "plan",
        &[
            "async fn",
            ".await",
            "ClusterClient",
            "Store::",
            "spawn_blocking",
            "rdkafka::consumer",
            "process::exit",
        ],
    ),
    ("", &["process::exit"]),
];

/// What only the files listed beside it may name: every client of the tool is made by the
/// client factory (`cluster/factory.rs`), with its cluster's security properties and its first
/// OAUTHBEARER token; the token supply alone turns a config into a client for it.
const CONFINED: [(&str, &[&str]); 6] = [
    ("ClientConfig::new", &["cluster/factory.rs"]),
    ("create_with_context", &["cluster/factory.rs"]),
    ("token_supply::create", &["cluster/factory.rs"]),
    ("token_supply::keep_supplied", &["cluster/factory.rs"]),
    ("auth::client_properties", &["cluster/factory.rs"]),
    ("from_config_and_context", &["auth/token_supply.rs"]),
];

/// Every `.rs` file under `src`.
fn rust_files(src: &Path) -> Result<Vec<std::path::PathBuf>> {
    let (mut found, mut dirs) = (Vec::new(), vec![src.to_path_buf()]);
    while let Some(path) = dirs.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                dirs.push(entry?.path());
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    Ok(found)
}

/// Module → the modules its files name with `crate::`, with how many references.
pub fn edges(src: &Path) -> Result<BTreeMap<String, BTreeMap<String, usize>>> {
    let mut edges: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for path in rust_files(src)? {
        let relative = path.strip_prefix(src)?;
        let first = relative
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .unwrap_or_default();
        if first == "lib" || first == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let from = edges.entry(first.clone()).or_default();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            for used in used_modules(code) {
                if used != first {
                    *from.entry(used).or_default() += 1;
                }
            }
        }
    }
    Ok(edges)
}

/// The top-level modules a line of code names: `crate::x` paths, and the `x` of
/// `use crate::{x, y::z}` groups.
fn used_modules(code: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let ident = |s: &str| {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<String>()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Only the first segment of each item of the group is a module of the crate.
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_ascii_alphanumeric() || c == '_') => {
                        used.insert(ident(&group[j..]));
                        start = false;
                    }
                    c if !c.is_whitespace() => start = false,
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                used.insert(name);
            }
        }
    }
    used
}

/// Edges that go up (or sideways) in [`LAYERS`], and modules missing from it.
pub fn violations(edges: &BTreeMap<String, BTreeMap<String, usize>>) -> Vec<String> {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut found = Vec::new();
    for (from, to) in edges {
        let Some(r) = rank(from) else {
            found.push(format!("module {from} is not in the layering"));
            continue;
        };
        for used in to.keys() {
            match rank(used) {
                Some(u) if u > r => {}
                Some(_) => found.push(format!("{from} → {used} goes up")),
                None => found.push(format!("{from} → {used}: {used} is not in the layering")),
            }
        }
    }
    found
}

/// Where a file of `src/` names what its layer must not (see [`FORBIDDEN`]) or what only other
/// files may (see [`CONFINED`]); `main.rs` may end the process.
pub fn trespasses(src: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for path in rust_files(src)? {
        let relative = path.strip_prefix(src)?.to_string_lossy().into_owned();
        if relative == "main.rs" {
            continue;
        }
        let module = relative.split(['/', '.']).next().unwrap_or_default();
        let text = std::fs::read_to_string(&path)?;
        // Unit tests beside the code may do what the code may not.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (layer, names) in FORBIDDEN {
            if !layer.is_empty() && layer != module {
                continue;
            }
            for (n, line) in code.lines().enumerate() {
                let line = line.split("//").next().unwrap_or_default();
                for name in names.iter().filter(|name| line.contains(**name)) {
                    found.push(format!("src/{relative}:{}: names {name}", n + 1));
                }
            }
        }
        for (name, allowed) in CONFINED {
            if allowed.contains(&relative.as_str()) {
                continue;
            }
            for (n, line) in code.lines().enumerate() {
                let line = line.split("//").next().unwrap_or_default();
                if line.contains(name) {
                    found.push(format!(
                        "src/{relative}:{}: names {name} (only {} may)",
                        n + 1,
                        allowed.join(", ")
                    ));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// Prints the table (one row per module, top layer first) and fails on a violation.
pub fn run(_args: &[String]) -> Result<i32> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
    let edges = edges(&src)?;
    println!("| module | uses (references) |");
    println!("|---|---|");
    for module in LAYERS {
        let uses = edges.get(module).map_or(String::new(), |to| {
            let mut by_layer: Vec<(&String, &usize)> = to.iter().collect();
            by_layer.sort_by_key(|(m, _)| LAYERS.iter().position(|l| l == m));
            by_layer
                .iter()
                .map(|(m, n)| format!("{m} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        });
        println!("| {module} | {uses} |");
    }
    let mut found = violations(&edges);
    found.extend(trespasses(&src)?);
    if !found.is_empty() {
        bail!("the module layering is broken:\n  {}", found.join("\n  "));
    }
    println!("\nNo cycle, no upward edge: {}.", LAYERS.join(" → "));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_imports_name_only_their_first_segments() {
        let used = used_modules("use crate::{config::{names, Migration}, state::Store};");
        assert_eq!(used, ["config", "state"].map(String::from).into());
        let used = used_modules("let x = crate::plan::make(crate::state::snapshot());");
        assert_eq!(used, ["plan", "state"].map(String::from).into());
    }

    #[test]
    fn an_upward_edge_is_a_violation() {
        let edges = BTreeMap::from([
            (
                "plan".to_string(),
                BTreeMap::from([("render".to_string(), 1)]),
            ),
            (
                "state".to_string(),
                BTreeMap::from([("config".to_string(), 1)]),
            ),
        ]);
        assert_eq!(violations(&edges), vec!["plan → render goes up"]);
    }

    /// The library as it is: every edge goes down.
    #[test]
    fn the_library_has_no_upward_edge() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
        let found = violations(&edges(&src).unwrap());
        assert!(found.is_empty(), "{}", found.join("\n"));
    }

    /// The command line talks to no cluster, the plan reads nothing, only the factory makes
    /// clients, and only the binary's entry ends the process.
    #[test]
    fn no_layer_names_what_it_must_not() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
        let found = trespasses(&src).unwrap();
        assert!(found.is_empty(), "{}", found.join("\n"));
    }

    #[test]
    fn a_trespass_is_found_with_its_line() {
        let dir = std::env::temp_dir().join(format!("trespass-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("cli")).unwrap();
        std::fs::write(
            dir.join("cli/mod.rs"),
            "fn f() {\n    let rt = tokio::runtime::Runtime::new();\n}\n",
        )
        .unwrap();
        std::fs::write(dir.join("main.rs"), "fn main() { std::process::exit(0) }\n").unwrap();
        let found = trespasses(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, ["src/cli/mod.rs:2: names tokio::runtime"]);
    }

    #[test]
    fn a_client_made_outside_the_factory_is_found() {
        let dir = std::env::temp_dir().join(format!("confined-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("cluster")).unwrap();
        std::fs::create_dir_all(dir.join("state")).unwrap();
        let make = "fn f() {\n    let c = ClientConfig::new().create_with_context(X);\n}\n";
        std::fs::write(dir.join("cluster/factory.rs"), make).unwrap();
        std::fs::write(
            dir.join("state/store.rs"),
            format!(
                "{make}#[cfg(test)]\nmod tests {{\n    fn g() {{ ClientConfig::new(); }}\n}}\n"
            ),
        )
        .unwrap();
        let found = trespasses(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            found,
            [
                "src/state/store.rs:2: names ClientConfig::new (only cluster/factory.rs may)",
                "src/state/store.rs:2: names create_with_context (only cluster/factory.rs may)",
            ]
        );
    }
}
