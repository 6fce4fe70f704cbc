//! The core's folders depend on each other in one direction only: reading every
//! `crate::<module>` path in the library's code (comments, doc comments and test
//! modules left out), the graph between top-level modules has no cycle, and the
//! sync engine reaches the database through its `SyncHost` seam only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, except those in a `tests` folder (test code).
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name != "tests") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`db` for `src/db/facade.rs`).
fn module_of(file: &Path) -> String {
    let relative = file.strip_prefix(src()).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_str().unwrap().trim_end_matches(".rs").to_owned()
}

/// The code of a file without comments and without its `#[cfg(test)]` module
/// (by this crate's convention the last item of a file).
fn code_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut previous = "";
    for line in text.lines() {
        let trimmed = line.trim_start();
        if previous == "#[cfg(test)]" && trimmed.starts_with("mod tests") {
            lines.pop();
            break;
        }
        previous = trimmed;
        if trimmed.starts_with("//") {
            continue;
        }
        lines.push(line.split("//").next().unwrap_or_default());
    }
    lines
}

/// The top-level modules `code` names as `crate::<module>`, grouped imports
/// (`crate::{a::X, b}`) included.
fn named_modules(code: &str) -> BTreeSet<String> {
    let ident = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut named = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Each item of the group at depth 0 starts with its module.
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        named.insert(ident(&group[start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        named.insert(ident(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            named.insert(ident(rest));
        }
    }
    // Items of the crate root (`crate::Code`) are not modules.
    named.retain(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    named
}

/// `module -> modules its code names with crate::<module>`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let from = module_of(&file);
        let text = std::fs::read_to_string(&file).unwrap();
        let mut named = named_modules(&code_lines(&text).join("\n"));
        named.remove(&from);
        graph.entry(from).or_default().extend(named);
    }
    graph
}

#[test]
fn grouped_imports_are_read_too() {
    let code = "use crate::{db::{Db, DbError}, sync::protocol, Code};\nlet x = crate::token::mint;";
    let expected: BTreeSet<String> = ["db", "sync", "token"].map(String::from).into();
    assert_eq!(named_modules(code), expected);
}

/// A cycle through `start`, if any (depth-first).
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        let here = path.last().unwrap().clone();
        for next in graph.get(&here).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(next.clone());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if let Some(cycle) = walk(graph, start, path, seen) {
                    return Some(cycle);
                }
                path.pop();
            }
        }
        None
    }
    walk(
        graph,
        start,
        &mut vec![start.to_owned()],
        &mut BTreeSet::new(),
    )
}

#[test]
fn no_import_cycle_between_the_core_s_folders() {
    let graph = graph();
    assert!(
        graph.contains_key("db") && graph.contains_key("sync"),
        "{graph:?}"
    );
    // The graph is read from real code: the Db does use the sync module.
    assert!(graph["db"].contains("sync"), "{graph:?}");
    for module in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, module) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_sync_engine_reaches_the_db_only_through_its_seam() {
    let graph = graph();
    assert!(
        !graph["sync"].contains("db"),
        "sync/ names crate::db: {:?}",
        graph["sync"]
    );
}
