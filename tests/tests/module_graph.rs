//! The server's modules import each other without a circle: each top-level module of
//! `server/src` (a file or a folder) may use the ones below it, never one that uses it back.
//! Circles make a module impossible to understand or test alone (the authority, the indexer
//! and the shared services once imported each other).
//!
//! The graph is read from the source: every `crate::name` in a module's files is an arrow to
//! module `name`. `lib.rs` and `main.rs` wire everything together and are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `path` (or `path` itself).
fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).expect("readable folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// The modules named after `crate::` in `source`, comments left out.
fn imports(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `crate::{a::X, b::{Y, Z}}` lists several: the first name of each top-level item.
            if name.is_empty() && rest.starts_with('{') {
                let mut depth = 0;
                let mut at_item_start = true;
                let mut item = String::new();
                for c in rest.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        ',' if depth == 1 => at_item_start = true,
                        c if depth == 1 && at_item_start => {
                            if c.is_ascii_alphanumeric() || c == '_' {
                                item.push(c);
                            } else if !item.is_empty() {
                                found.insert(std::mem::take(&mut item));
                                at_item_start = false;
                            }
                        }
                        _ => {}
                    }
                }
                if !item.is_empty() {
                    found.insert(item);
                }
            } else if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// The server's top-level modules and the modules each one imports.
fn server_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src");
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(&src).expect("server/src") {
        let path = entry.expect("entry").path();
        let name = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .expect("a name")
            .to_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        if path.is_file() && path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        modules.insert(name, path);
    }
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .into_iter()
        .map(|(name, path)| {
            let mut used = BTreeSet::new();
            for file in rust_files(&path) {
                let source = std::fs::read_to_string(&file).expect("readable source");
                used.extend(imports(&source));
            }
            // Names that are not modules (`crate::Error` re-exported by lib.rs) resolve to
            // the module that defines them.
            let used: BTreeSet<String> = used
                .into_iter()
                .map(|used| match used.as_str() {
                    "Error" | "Result" => "error".to_owned(),
                    "ServerConfig" => "config".to_owned(),
                    _ => used,
                })
                .filter(|used| known.contains(used) && *used != name)
                .collect();
            (name, used)
        })
        .collect()
}

/// A circle in `graph`, if there is one, as the modules along it.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Visiting) => {
                let start = path.iter().position(|n| n == node).unwrap_or(0);
                let mut circle = path[start..].to_vec();
                circle.push(node.to_owned());
                return Some(circle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Visiting);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, marks, path) {
                return Some(circle);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(circle) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(circle);
        }
    }
    None
}

#[test]
#[allow(clippy::print_stdout)] // the graph, for whoever runs it with --nocapture
fn the_servers_modules_import_each_other_without_a_circle() {
    let graph = server_graph();
    for (module, used) in &graph {
        let used: Vec<&str> = used.iter().map(String::as_str).collect();
        println!("{module} -> {}", used.join(", "));
    }
    assert!(graph.contains_key("authority") && graph.contains_key("services"));
    if let Some(circle) = find_circle(&graph) {
        panic!(
            "server modules import each other in a circle: {}",
            circle.join(" -> ")
        );
    }
}

#[test]
fn a_circle_is_found_when_there_is_one() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("authority", vec!["services", "actors"]),
        ("services", vec!["index_documents"]),
        ("index_documents", vec!["authority"]),
        ("actors", vec![]),
    ]
    .into_iter()
    .map(|(name, used)| {
        (
            name.to_owned(),
            used.into_iter().map(str::to_owned).collect(),
        )
    })
    .collect();
    let circle = find_circle(&graph).expect("the circle");
    assert_eq!(circle.first(), circle.last());
    assert!(circle.contains(&"services".to_owned()));
    assert_eq!(
        imports(
            "use crate::{actors::{Hub, Route}, services::Services, demo};\n// crate::http\nlet x = crate::authority::f();"
        ),
        ["actors", "authority", "demo", "services"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
}
