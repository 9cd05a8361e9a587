//! The layering `docs/architecture.md` describes, checked against `src/` itself so it
//! cannot quietly erode: no layer below the command line imports the command line, the
//! reports or the command line's errors, and no two files import each other, directly
//! or round a loop.
//!
//! The import graph is built by parsing every file with `syn` (the compiler's grammar,
//! so `use crate::{report::x}`, `super::super::cli`, globs, `self`, renames and
//! `impl Trait + use<'a>` are read as Rust reads them, not matched as text). Each path
//! is resolved to the module FILE it names: every leaf of every `use` tree, every
//! inline path in an expression, type, pattern or macro body that starts with
//! `crate`, `self`, `super` or the name of a child module. A path names the file of its
//! longest module prefix (`crate::load::Profile` names `load/mod.rs`, whatever
//! `load/mod.rs` re-exports it from).
//!
//! A `pub use` (any visibility) is an edge like any `use`: the re-exporting file
//! depends on the file it re-exports from. The graph does not follow a re-export to
//! the file that defines the item, because doing so hides real loops (a file using a
//! facade that re-exports from the file itself). Cycles are the strongly connected
//! components of the graph (Tarjan). A parent's `mod child;` is not an edge
//! (declaring a module is not using it), and a path inside an inline module resolves
//! from that module: a test module's `use super::*` names its own file.
//!
//! For the layer rule, which asks what a file can reach, a target's re-exports ARE
//! followed, so a facade (`crate::SetupError` re-exported by `lib.rs`) does not hide
//! a forbidden import; doc comments' `crate::…` links count too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The front (and the only files allowed to import it): the command line, the
/// reports, and the command line's errors and exit codes (`error.rs`: `SetupError`
/// words a problem for the user, `exit` is the process's contract), and the project
/// file (`project.rs`: `spotcheck.toml` holds the command line's defaults — flags,
/// report names — so it reads what the command line accepts).
const FRONT: [&str; 4] = ["cli/", "report/", "error.rs", "project.rs"];

/// Every file that is not the front is a layer below it: the engine (`runner/`,
/// `delivery/`, `scenario/`, `event/`, `signing*`, `diagnose/`, `outcome.rs`,
/// `check.rs`), the wire and trust (`wire.rs`, `tls/`, `route.rs`, `target.rs`), load
/// mode, the TLS probe and the reference receiver. Only the crate roots are neither:
/// `lib.rs` declares the modules and `main.rs` is the binary.
fn is_below_front(rel: &str) -> bool {
    !FRONT.iter().any(|front| rel.starts_with(front)) && rel != "lib.rs" && rel != "main.rs"
}

/// What the reports may not import: the command line.
fn report_may_not_reach(target: &str) -> bool {
    target.starts_with("cli/")
}

#[test]
fn layers_below_the_front_import_neither_cli_nor_report() {
    let graph = ImportGraph::read(Path::new(SRC));
    let found = graph.layer_violations();
    assert!(
        found.is_empty(),
        "layers below the command line import the front:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_import_cycle_between_files() {
    let graph = ImportGraph::read(Path::new(SRC));
    let cycles = graph.cycles();
    assert!(
        cycles.is_empty(),
        "import cycles between files of src/ (a `pub use` counts as an import):\n{}",
        graph.describe(&cycles)
    );
}

/// The guard itself: the forms the old text scan missed are caught, and what only
/// looks like an import is not.
#[test]
fn guard_catches_grouped_super_super_and_facade_imports() {
    let tree = [
        (
            "lib.rs",
            "pub mod cli;\npub mod report;\npub mod error;\npub mod runner;\npub mod load;\n\
             pub use error::SetupError;\n",
        ),
        ("cli/mod.rs", "pub struct Args;\n"),
        ("report/mod.rs", "pub mod html;\n"),
        ("report/html.rs", "pub fn page() {}\n"),
        ("error.rs", "pub struct SetupError;\n"),
        ("runner/mod.rs", "pub mod exec;\npub mod quiet;\n"),
        // Grouped, nested and renamed.
        (
            "runner/exec.rs",
            "use crate::{report::{html as h}};\npub fn f() { h::page() }\n",
        ),
        // Two `super`s up to the root, then the CLI; and a facade in the root.
        ("load/mod.rs", "pub mod deep;\n"),
        (
            "load/deep.rs",
            "use super::super::cli::Args;\n\
             pub fn g(_: Args) -> Result<(), crate::SetupError> { Ok(()) }\n",
        ),
        // Only looks like an import: a comment, a string, precise capturing.
        (
            "runner/quiet.rs",
            "// use crate::cli::Args;\n\
             pub const NOTE: &str = \"crate::report::html\";\n\
             pub fn h<'a>(x: &'a str) -> impl Sized + use<'a> { x }\n",
        ),
    ];
    let dir = write_tree(&tree);
    let graph = ImportGraph::read(dir.path());
    assert_eq!(
        graph.layer_violations(),
        vec![
            "src/load/deep.rs -> cli/mod.rs (`super::super::cli::Args`)".to_owned(),
            "src/load/deep.rs -> error.rs (`crate::SetupError`, re-exported by lib.rs)".to_owned(),
            "src/runner/exec.rs -> report/html.rs (`crate::report::html`)".to_owned(),
        ],
        "{graph:?}"
    );
}

/// A loop through a re-export is a loop (the `load/profile.rs` and `load/request.rs`
/// shape); a test module's `use super::*`, a `mod` declaration and a path in a macro
/// body are read right.
#[test]
fn cycle_finder_counts_a_re_export_and_only_a_loop() {
    let acyclic = [
        ("lib.rs", "pub mod load;\npub mod a;\npub mod signing;\n"),
        (
            "load/mod.rs",
            "pub mod mix;\npub mod profile;\npub mod request;\n",
        ),
        ("load/mix.rs", "pub struct WeightedKind;\n"),
        (
            "load/profile.rs",
            "use super::mix::WeightedKind;\npub struct Profile(WeightedKind);\n\
             #[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::load::profile::Profile;\n}\n",
        ),
        (
            "load/request.rs",
            "use super::profile::Profile;\npub use super::mix::WeightedKind;\n\
             pub fn f(_: Profile) {}\n",
        ),
        (
            "a.rs",
            "pub fn f() -> String { format!(\"{}\", crate::signing::now()) }\n",
        ),
        ("signing.rs", "pub fn now() -> u64 { 0 }\n"),
    ];
    let dir = write_tree(&acyclic);
    let graph = ImportGraph::read(dir.path());
    assert_eq!(
        graph.targets("a.rs"),
        vec!["signing.rs"],
        "a path inside format!() is read: {graph:?}"
    );
    assert_eq!(
        graph.targets("load/request.rs"),
        vec!["load/mix.rs", "load/profile.rs"],
        "{graph:?}"
    );
    assert!(
        graph.cycles().is_empty(),
        "{}",
        graph.describe(&graph.cycles())
    );

    // profile.rs now takes WeightedKind from request.rs, which re-exports it: the
    // old scan followed the re-export to mix.rs and saw no loop.
    let mut cyclic = acyclic;
    cyclic[3] = (
        "load/profile.rs",
        "use super::request::WeightedKind;\npub struct Profile(WeightedKind);\n",
    );
    let dir = write_tree(&cyclic);
    let graph = ImportGraph::read(dir.path());
    let cycles = graph.cycles();
    assert_eq!(
        cycles,
        vec![vec![
            "load/profile.rs".to_owned(),
            "load/request.rs".to_owned()
        ]]
    );
    assert_eq!(
        graph.describe(&cycles),
        "cycle: load/profile.rs load/request.rs\n   \
         load/profile.rs -> load/request.rs (`super::request::WeightedKind`)\n   \
         load/request.rs -> load/profile.rs (`super::profile::Profile`)\n"
    );

    // A grouped `self` and a glob through a parent's re-export close a loop too.
    let mut cyclic = acyclic;
    cyclic[1] = (
        "load/mod.rs",
        "pub mod mix;\npub mod profile;\npub mod request;\npub use request::*;\n",
    );
    cyclic[3] = (
        "load/profile.rs",
        "use crate::load::{self, mix::WeightedKind};\npub struct Profile(WeightedKind);\n",
    );
    let dir = write_tree(&cyclic);
    let graph = ImportGraph::read(dir.path());
    assert_eq!(
        graph.cycles(),
        vec![vec![
            "load/mod.rs".to_owned(),
            "load/profile.rs".to_owned(),
            "load/request.rs".to_owned()
        ]]
    );
}

fn write_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Every `.rs` file under `root`, keyed by its path relative to `root` (`/`-separated).
fn read_tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(root, root, &mut files);
    files
}

/// The module path of a file: `delivery/mod.rs` is `delivery`, `lib.rs` the root.
fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// One import as written: the absolute module path it names, where it is written,
/// whether it is a `pub use`, and its text for the messages.
#[derive(Debug)]
struct Import {
    path: Vec<String>,
    reexport: bool,
    /// For a `pub use`: the name it re-exports (`*` for a glob, `self` for a module).
    name: String,
    written: String,
}

/// Which file imports which, among the files of one library crate's source tree.
#[derive(Debug)]
struct ImportGraph {
    /// For each file, the files it imports, each with the first path that made the edge.
    edges: BTreeMap<String, BTreeMap<String, String>>,
    /// The subset of `edges` made by `pub use` re-exports.
    reexports: BTreeMap<String, BTreeSet<String>>,
    /// Each file's re-exports by name: (name or `*`, the file and item it leads to).
    reexported: BTreeMap<String, Vec<(String, String, Option<String>)>>,
    /// For the layer rule: every path a file names, in code or in a doc comment's
    /// `[`crate::x`]` link, keyed `TARGET\0ITEM`, with the first path written.
    named: BTreeMap<String, BTreeMap<String, String>>,
}

impl ImportGraph {
    fn read(root: &Path) -> ImportGraph {
        // main.rs is another crate (the binary), reaching the library as `spotcheck::`.
        let files: BTreeMap<String, String> = read_tree(root)
            .into_iter()
            .filter(|(rel, _)| rel != "main.rs" && !rel.starts_with("bin/"))
            .collect();
        let mut modules: BTreeMap<Vec<String>, String> = files
            .keys()
            .map(|rel| (module_path(rel), rel.clone()))
            .collect();
        let mut parsed = BTreeMap::new();
        for (rel, text) in &files {
            let file = syn::parse_file(text)
                .unwrap_or_else(|err| panic!("src/{rel} does not parse: {err}"));
            // Inline modules (`mod tests { … }`) live in their file.
            let mut inline = Vec::new();
            collect_inline_modules(&file.items, &module_path(rel), &mut inline);
            for module in inline {
                modules.entry(module).or_insert_with(|| rel.clone());
            }
            parsed.insert(rel.clone(), file);
        }
        let mut graph = ImportGraph {
            edges: BTreeMap::new(),
            reexports: BTreeMap::new(),
            reexported: BTreeMap::new(),
            named: BTreeMap::new(),
        };
        for (rel, file) in &parsed {
            let mut reader = FileReader {
                scope: module_path(rel),
                modules: &modules,
                imports: Vec::new(),
                docs: Vec::new(),
            };
            reader.visit_file(file);
            // The file of the longest module prefix, and the item named in it.
            let resolve = |path: &[String]| -> Option<(String, Option<String>)> {
                (0..=path.len()).rev().find_map(|k| {
                    modules
                        .get(&path[..k])
                        .map(|file| (file.clone(), path.get(k).cloned()))
                })
            };
            let edges = graph.edges.entry(rel.clone()).or_default();
            let reexports = graph.reexports.entry(rel.clone()).or_default();
            let reexported = graph.reexported.entry(rel.clone()).or_default();
            for import in &reader.imports {
                let Some((target, item)) = resolve(&import.path) else {
                    continue;
                };
                if import.reexport {
                    reexported.push((import.name.clone(), target.clone(), item));
                }
                if target == *rel {
                    continue;
                }
                if import.reexport {
                    reexports.insert(target.clone());
                }
                edges
                    .entry(target)
                    .or_insert_with(|| import.written.clone());
            }
            let docs = graph.named.entry(rel.clone()).or_default();
            for import in reader.docs.iter().chain(&reader.imports) {
                if let Some((target, item)) = resolve(&import.path) {
                    docs.entry(format!("{target}\u{0}{}", item.unwrap_or_default()))
                        .or_insert_with(|| import.written.clone());
                }
            }
        }
        graph
    }

    fn targets(&self, file: &str) -> Vec<&str> {
        self.edges[file].keys().map(String::as_str).collect()
    }

    /// Each import of a layer below the front that reaches the front, directly or
    /// through a chain of re-exports, as `src/FILE -> TARGET (`path`)`.
    fn layer_violations(&self) -> Vec<String> {
        let mut found = BTreeSet::new();
        for rel in self.edges.keys() {
            let forbidden: fn(&str) -> bool = if is_below_front(rel) {
                |target| FRONT.iter().any(|front| target.starts_with(front))
            } else if rel.starts_with("report/") {
                report_may_not_reach
            } else {
                continue;
            };
            for (key, written) in &self.named[rel] {
                let (target, item) = key.split_once('\u{0}').unwrap();
                let item = (!item.is_empty()).then(|| item.to_owned());
                for (reached, via) in self.through_reexports(target, item) {
                    if forbidden(&reached) {
                        let via = via.map(|v| format!(", re-exported by {v}"));
                        found.insert(format!(
                            "src/{rel} -> {reached} (`{written}`{})",
                            via.unwrap_or_default()
                        ));
                    }
                }
            }
        }
        found.into_iter().collect()
    }

    /// `target` itself and every file its re-exports of `item` lead to (all of its
    /// re-exports when a whole module is named), each with the re-exporting file it
    /// was reached through.
    fn through_reexports(
        &self,
        target: &str,
        item: Option<String>,
    ) -> Vec<(String, Option<String>)> {
        let mut out = vec![(target.to_owned(), None)];
        let mut queue = vec![(target.to_owned(), item)];
        let mut seen = BTreeSet::new();
        while let Some((from, item)) = queue.pop() {
            if !seen.insert((from.clone(), item.clone())) {
                continue;
            }
            for (name, next, next_item) in self.reexported.get(&from).into_iter().flatten() {
                let follows = match &item {
                    None => true,
                    Some(item) => name == item || name == "*",
                };
                if !follows {
                    continue;
                }
                // A glob passes the item on; a named re-export names its own.
                let next_item = if name == "*" {
                    item.clone()
                } else {
                    next_item.clone()
                };
                if next != &from {
                    out.push((next.clone(), Some(from.clone())));
                }
                queue.push((next.clone(), next_item));
            }
        }
        out
    }

    /// The strongly connected components of more than one file, each sorted, in order.
    fn cycles(&self) -> Vec<Vec<String>> {
        let mut tarjan = Tarjan::new(self);
        for file in self.edges.keys() {
            if !tarjan.index.contains_key(file.as_str()) {
                tarjan.visit(file);
            }
        }
        let mut cycles = tarjan.components;
        cycles.sort();
        cycles
    }

    /// Each cycle with the edges that close it and the path that made each edge.
    fn describe(&self, cycles: &[Vec<String>]) -> String {
        let mut out = String::new();
        for cycle in cycles {
            out += &format!("cycle: {}\n", cycle.join(" "));
            for from in cycle {
                for (to, written) in self.edges[from].iter().filter(|(to, _)| cycle.contains(to)) {
                    let kind = if self.reexports[from].contains(to) {
                        ", a re-export"
                    } else {
                        ""
                    };
                    out += &format!("   {from} -> {to} (`{written}`{kind})\n");
                }
            }
        }
        out
    }
}

fn collect_inline_modules(items: &[syn::Item], scope: &[String], out: &mut Vec<Vec<String>>) {
    for item in items {
        if let syn::Item::Mod(module) = item
            && let Some((_, items)) = &module.content
        {
            let mut inner = scope.to_vec();
            inner.push(module.ident.to_string());
            out.push(inner.clone());
            collect_inline_modules(items, &inner, out);
        }
    }
}

/// Walks one file's syntax tree, collecting the crate paths it names.
struct FileReader<'a> {
    /// The module the walk is in: the file's, or an inline module's inside it.
    scope: Vec<String>,
    modules: &'a BTreeMap<Vec<String>, String>,
    imports: Vec<Import>,
    docs: Vec<Import>,
}

impl FileReader<'_> {
    /// A path as written in the current module, made absolute from the crate root;
    /// `None` for a path outside the crate (`std::…`, another crate, a local name).
    fn absolute(&self, segments: &[String]) -> Option<Vec<String>> {
        let first = segments.first()?;
        let here = &self.scope;
        match first.as_str() {
            "crate" => Some(segments[1..].to_vec()),
            "self" => Some([here.as_slice(), &segments[1..]].concat()),
            "super" => {
                let supers = segments.iter().take_while(|s| *s == "super").count();
                let base = &here[..here.len().saturating_sub(supers)];
                Some([base, &segments[supers..]].concat())
            }
            _ => {
                // `child::Item` names a child module of this one.
                let path = [here.as_slice(), segments].concat();
                self.modules
                    .contains_key(&path[..here.len() + 1])
                    .then_some(path)
            }
        }
    }

    fn record(&mut self, segments: Vec<String>, reexport: bool) {
        self.record_named(segments, reexport, String::new());
    }

    fn record_named(&mut self, segments: Vec<String>, reexport: bool, name: String) {
        if let Some(path) = self.absolute(&segments) {
            self.imports.push(Import {
                path,
                reexport,
                name,
                written: segments.join("::"),
            });
        }
    }

    /// The leaves of a `use` tree: `a::{b, c::{self, d as e}, f::*}` is `a::b`,
    /// `a::c`, `a::c::d`, `a::f` (a glob names its module; a rename changes nothing).
    fn use_tree(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>, reexport: bool) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(&path.tree, prefix, reexport);
                prefix.pop();
            }
            syn::UseTree::Name(name) if name.ident == "self" => {
                let module = prefix.last().cloned().unwrap_or_default();
                self.record_named(prefix.clone(), reexport, module)
            }
            syn::UseTree::Name(name) => {
                let item = name.ident.to_string();
                self.record_named(
                    [prefix.as_slice(), std::slice::from_ref(&item)].concat(),
                    reexport,
                    item,
                )
            }
            syn::UseTree::Rename(rename) if rename.ident == "self" => {
                self.record_named(prefix.clone(), reexport, rename.rename.to_string())
            }
            syn::UseTree::Rename(rename) => self.record_named(
                [prefix.as_slice(), &[rename.ident.to_string()]].concat(),
                reexport,
                rename.rename.to_string(),
            ),
            syn::UseTree::Glob(_) => self.record_named(prefix.clone(), reexport, "*".to_owned()),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(tree, prefix, reexport);
                }
            }
        }
    }

    /// `crate :: a :: b` sequences in a macro's tokens (`format!("{}", crate::a::f())`),
    /// which syn leaves unparsed.
    fn macro_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(group) => self.macro_tokens(group.stream()),
                TokenTree::Ident(ident)
                    if (ident == "crate" || ident == "super" || ident == "self")
                        && !(i > 0 && is_punct(&trees[i - 1], ':')) =>
                {
                    let mut segments = vec![ident.to_string()];
                    let mut j = i + 1;
                    while j + 2 < trees.len()
                        && is_punct(&trees[j], ':')
                        && is_punct(&trees[j + 1], ':')
                        && let TokenTree::Ident(next) = &trees[j + 2]
                    {
                        segments.push(next.to_string());
                        j += 3;
                    }
                    if segments.len() > 1 {
                        self.record(segments, false);
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

fn is_punct(tree: &TokenTree, c: char) -> bool {
    matches!(tree, TokenTree::Punct(p) if p.as_char() == c)
}

impl<'ast> Visit<'ast> for FileReader<'_> {
    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        for attr in &module.attrs {
            self.visit_attribute(attr);
        }
        if let Some((_, items)) = &module.content {
            self.scope.push(module.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.scope.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let reexport = !matches!(item.vis, syn::Visibility::Inherited);
        if item.leading_colon.is_none() {
            self.use_tree(&item.tree, &mut Vec::new(), reexport);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            // `Self::X` and a local name are not modules; `absolute` sorts the rest.
            self.record(segments, false);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.macro_tokens(mac.tokens.clone());
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        // Doc comments: `[`crate::report::html::page`]` and the like.
        if attr.path().is_ident("doc")
            && let syn::Meta::NameValue(meta) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            }) = &meta.value
        {
            let text = text.value();
            for (start, _) in text.match_indices("crate::") {
                let path: String = text[start..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let segments: Vec<String> = path
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                if let Some(path) = self.absolute(&segments) {
                    self.docs.push(Import {
                        path,
                        reexport: false,
                        name: String::new(),
                        written: segments.join("::"),
                    });
                }
            }
        }
        syn::visit::visit_attribute(self, attr);
    }
}

/// Tarjan's strongly connected components over an [`ImportGraph`].
struct Tarjan<'g> {
    graph: &'g ImportGraph,
    counter: usize,
    index: BTreeMap<&'g str, usize>,
    low: BTreeMap<&'g str, usize>,
    stack: Vec<&'g str>,
    on_stack: BTreeSet<&'g str>,
    components: Vec<Vec<String>>,
}

impl<'g> Tarjan<'g> {
    fn new(graph: &'g ImportGraph) -> Tarjan<'g> {
        Tarjan {
            graph,
            counter: 0,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            components: Vec::new(),
        }
    }

    fn visit(&mut self, file: &'g str) {
        self.index.insert(file, self.counter);
        self.low.insert(file, self.counter);
        self.counter += 1;
        self.stack.push(file);
        self.on_stack.insert(file);
        for next in self.graph.edges[file].keys() {
            let next = next.as_str();
            if !self.index.contains_key(next) {
                self.visit(next);
                self.low.insert(file, self.low[file].min(self.low[next]));
            } else if self.on_stack.contains(next) {
                self.low.insert(file, self.low[file].min(self.index[next]));
            }
        }
        if self.low[file] == self.index[file] {
            let mut component = Vec::new();
            loop {
                let member = self.stack.pop().unwrap();
                self.on_stack.remove(member);
                component.push(member.to_owned());
                if member == file {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                self.components.push(component);
            }
        }
    }
}

/// The figures the closing note of a restructuring quotes, for any source tree:
/// `SPOTCHECK_FIGURES_SRC=/path/to/src cargo test --test tests architecture::figures --
/// --ignored --nocapture` (default: this `src/`). The longest functions (from `fn` to
/// the closing brace, nested functions counted on their own), the largest files, and
/// the file cycles as [`ImportGraph`] counts them (re-exports included).
#[test]
#[ignore = "prints figures; run by hand"]
fn figures() {
    let root = std::env::var("SPOTCHECK_FIGURES_SRC").unwrap_or_else(|_| SRC.to_owned());
    let root = Path::new(&root);
    struct Lengths(Vec<(usize, String)>, String);
    impl<'ast> Visit<'ast> for Lengths {
        fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
            self.record(&f.sig, &f.block);
            syn::visit::visit_item_fn(self, f);
        }
        fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
            self.record(&f.sig, &f.block);
            syn::visit::visit_impl_item_fn(self, f);
        }
    }
    impl Lengths {
        fn record(&mut self, sig: &syn::Signature, block: &syn::Block) {
            let start = sig.fn_token.span.start().line;
            let end = block.brace_token.span.close().end().line;
            self.0
                .push((end + 1 - start, format!("{}:{start} {}", self.1, sig.ident)));
        }
    }
    let mut lengths = Lengths(Vec::new(), String::new());
    let mut sizes = Vec::new();
    for (rel, text) in read_tree(root) {
        sizes.push((text.lines().count(), rel.clone()));
        lengths.1 = rel;
        lengths.visit_file(&syn::parse_file(&text).unwrap());
    }
    lengths.0.sort_by(|a, b| b.cmp(a));
    sizes.sort_by(|a, b| b.cmp(a));
    println!("longest functions:");
    for (lines, name) in lengths.0.iter().take(8) {
        println!("  {lines:5} {name}");
    }
    println!("largest files:");
    for (lines, name) in sizes.iter().take(8) {
        println!("  {lines:5} {name}");
    }
    let graph = ImportGraph::read(root);
    let cycles = graph.cycles();
    println!(
        "file cycles (re-exports counted): {} covering {} files",
        cycles.len(),
        cycles.iter().map(Vec::len).sum::<usize>()
    );
    for cycle in &cycles {
        println!("  {}", cycle.join(" "));
    }
    println!("layer violations: {}", graph.layer_violations().len());
    for violation in graph.layer_violations() {
        println!("  {violation}");
    }
}
