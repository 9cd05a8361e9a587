//! The layering `docs/architecture.md` describes, checked against `src/` itself so it
//! cannot quietly erode: the engine's layers import nothing of the report or the
//! command line, and no two files import each other, directly or round a loop.
//!
//! The import graph is built from the text of the sources, not from the compiler: an
//! edge is a `use` or an inline `crate::`/`super::` path naming an item of another
//! file; a `pub use` re-export is followed to the file that defines the item; a
//! parent's `mod child;` is not an edge (declaring a module is not using it). Cycles
//! are the strongly connected components of that graph (Tarjan). Comments and string
//! literals are skipped by a small lexer (a URL's `//` in a string is not a comment),
//! and a path inside an inline module resolves from that module: a test module's
//! `use super::*` names its own file's items, not the parent module's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The layers below the report and the command line: the engine, the wire and the
/// scenario language (`src/signing*` is a file or a folder).
const ENGINE_LAYERS: [&str; 5] = ["runner/", "delivery/", "scenario/", "event/", "signing"];

#[test]
fn engine_layers_refer_to_neither_report_nor_cli() {
    let mut found = Vec::new();
    for (rel, text) in read_tree(Path::new(SRC)) {
        if !ENGINE_LAYERS.iter().any(|layer| rel.starts_with(layer)) {
            continue;
        }
        // As `grep`, comments included: a comment naming `crate::report` is a
        // dependency the code is about to have, or one it describes wrongly.
        for (number, line) in text.lines().enumerate() {
            if line.contains("crate::report") || line.contains("crate::cli") {
                found.push(format!("src/{rel}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the engine's layers refer to the report or the command line:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_import_cycle_between_files() {
    let graph = ImportGraph::read(Path::new(SRC));
    let cycles = graph.cycles();
    assert!(
        cycles.is_empty(),
        "import cycles between files of src/:\n{}",
        graph.describe(&cycles)
    );
}

/// The finder itself: a loop through a re-export and an inline path is found, and a
/// tree whose only links back are a `mod` declaration, a comment, a string and a test
/// module's `use super::*` is not called cyclic (nor is a `use` after a URL missed).
#[test]
fn cycle_finder_finds_a_loop_and_only_a_loop() {
    let acyclic = [
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        (
            "a.rs",
            "const URL: &str = \"https://example.test/\";\n\
             use crate::b::Thing;\npub fn f(_: Thing) {}\n",
        ),
        ("b/mod.rs", "mod child;\npub use child::Thing;\n"),
        (
            "b/child.rs",
            "// use crate::a::f;\n/* crate::a::f() */\n\
             pub struct Thing;\npub const NOTE: &str = \"crate::a::f\";\n\
             pub const QUOTE: char = '\"';\npub fn g<'a>(x: &'a str) -> &'a str { x }\n\
             #[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        ),
    ];
    let dir = write_tree(&acyclic);
    let graph = ImportGraph::read(dir.path());
    assert_eq!(
        graph.edges["a.rs"],
        BTreeSet::from(["b/child.rs".to_owned()]),
        "{graph:?}"
    );
    assert!(
        graph.cycles().is_empty(),
        "{}",
        graph.describe(&graph.cycles())
    );

    let mut cyclic = acyclic;
    cyclic[3] = (
        "b/child.rs",
        "pub struct Thing;\npub fn g() { crate::a::f(Thing) }\n",
    );
    let dir = write_tree(&cyclic);
    let graph = ImportGraph::read(dir.path());
    let cycles = graph.cycles();
    assert_eq!(
        cycles,
        vec![vec!["a.rs".to_owned(), "b/child.rs".to_owned()]]
    );
    assert_eq!(
        graph.describe(&cycles),
        "cycle: a.rs b/child.rs\n   a.rs -> b/child.rs\n   b/child.rs -> a.rs\n"
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

/// Which file imports which, among the files of one source tree.
#[derive(Debug)]
struct ImportGraph {
    edges: BTreeMap<String, BTreeSet<String>>,
}

/// What one file says, as the graph needs it.
#[derive(Default)]
struct FileFacts {
    /// Names of the items (and modules) it defines.
    defines: BTreeSet<String>,
    /// `pub use` re-exports: the name (`*` for a glob) and the absolute path it stands for.
    reexports: Vec<(String, Vec<String>)>,
    /// Absolute module paths it uses.
    uses: Vec<Vec<String>>,
}

impl ImportGraph {
    fn read(root: &Path) -> ImportGraph {
        let files = read_tree(root);
        let modules: BTreeMap<Vec<String>, String> = files
            .keys()
            .map(|rel| (module_path(rel), rel.clone()))
            .collect();
        let facts: BTreeMap<&str, FileFacts> = files
            .iter()
            .map(|(rel, text)| (rel.as_str(), FileFacts::read(rel, text, &modules)))
            .collect();
        let resolver = Resolver {
            modules: &modules,
            facts: &facts,
        };
        let mut edges = BTreeMap::new();
        for (rel, file) in &facts {
            let targets: BTreeSet<String> = file
                .uses
                .iter()
                .filter_map(|path| resolver.file_of(path, 0))
                .filter(|target| target != rel && target != "lib.rs" && target != "main.rs")
                .collect();
            edges.insert((*rel).to_owned(), targets);
        }
        ImportGraph { edges }
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

    /// Each cycle with the edges that close it, as `python3 cycles.py` prints them.
    fn describe(&self, cycles: &[Vec<String>]) -> String {
        let mut out = String::new();
        for cycle in cycles {
            out += &format!("cycle: {}\n", cycle.join(" "));
            for from in cycle {
                for to in self.edges[from].iter().filter(|to| cycle.contains(to)) {
                    out += &format!("   {from} -> {to}\n");
                }
            }
        }
        out
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
        for next in &self.graph.edges[file] {
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

/// Finds the file a crate path's item lives in, following `pub use` re-exports.
struct Resolver<'a> {
    modules: &'a BTreeMap<Vec<String>, String>,
    facts: &'a BTreeMap<&'a str, FileFacts>,
}

impl Resolver<'_> {
    /// The file of the longest module prefix of `path`; when the next segment is not
    /// defined there but re-exported, the file the re-export leads to. Re-exports are
    /// followed at most five deep (a re-export loop would not otherwise end).
    fn file_of(&self, path: &[String], depth: usize) -> Option<String> {
        let path: Vec<String> = path.iter().filter(|s| *s != "*").cloned().collect();
        for k in (1..=path.len()).rev() {
            let Some(file) = self.modules.get(&path[..k]) else {
                continue;
            };
            if let Some(item) = path.get(k) {
                let facts = &self.facts[file.as_str()];
                if !facts.defines.contains(item) && depth < 5 {
                    for (name, target) in &facts.reexports {
                        let glob = name == "*";
                        if name != item && !glob {
                            continue;
                        }
                        let mut target = target.clone();
                        if glob {
                            target.push(item.clone());
                        }
                        if let Some(found) = self.file_of(&target, depth + 1)
                            && (!glob || self.facts[found.as_str()].defines.contains(item))
                        {
                            return Some(found);
                        }
                    }
                }
            }
            return Some(file.clone());
        }
        None
    }
}

/// The module path of a file: `delivery/mod.rs` is `delivery`, `lib.rs` the root.
fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

impl FileFacts {
    fn read(rel: &str, text: &str, modules: &BTreeMap<Vec<String>, String>) -> FileFacts {
        let tokens = tokens(&strip_comments_and_literals(text));
        let scopes = module_scopes(&module_path(rel), &tokens);
        let absolute = |at: usize, segments: &[String]| absolute(&scopes[at], segments, modules);
        let mut facts = FileFacts::default();
        for (i, token) in tokens.iter().enumerate() {
            let Token::Word(word) = token else { continue };
            let next = tokens.get(i + 1);
            match (word.as_str(), next) {
                (
                    "fn" | "struct" | "enum" | "trait" | "type" | "const" | "static" | "mod",
                    Some(Token::Word(name)),
                ) => {
                    facts.defines.insert(name.clone());
                }
                ("macro_rules", Some(Token::Punct('!'))) => {
                    if let Some(Token::Word(name)) = tokens.get(i + 2) {
                        facts.defines.insert(name.clone());
                    }
                }
                ("use", _) => {
                    let public = is_pub_before(&tokens[..i]);
                    let end = tokens[i..].iter().position(|t| *t == Token::Punct(';'));
                    let tree = &tokens[i + 1..i + end.unwrap_or(tokens.len() - i)];
                    for segments in expand_use_tree(tree) {
                        let Some(path) = absolute(i, &segments) else {
                            continue;
                        };
                        if public {
                            let name = segments.last().cloned().unwrap_or_default();
                            let target = if name == "*" {
                                path[..path.len() - 1].to_vec()
                            } else {
                                path.clone()
                            };
                            facts.reexports.push((name, target));
                        }
                        facts.uses.push(path);
                    }
                }
                _ => {}
            }
        }
        // Inline paths, `crate::a::b` and `super::x`, wherever they are written.
        let mut i = 0;
        while i < tokens.len() {
            if let Token::Word(first) = &tokens[i]
                && (first == "crate" || first == "super")
                && (i == 0 || tokens[i - 1] != Token::PathSep)
            {
                let mut segments = vec![first.clone()];
                let mut j = i + 1;
                while let (Some(Token::PathSep), Some(Token::Word(word))) =
                    (tokens.get(j), tokens.get(j + 1))
                {
                    segments.push(word.clone());
                    j += 2;
                }
                if segments.len() > 1
                    && let Some(path) = absolute(i, &segments)
                {
                    facts.uses.push(path);
                }
                i = j;
            } else {
                i += 1;
            }
        }
        facts
    }
}

/// The module each token is written in: the file's module, or an inline module in it
/// (`mod tests { use super::*; }` names the file's own items, not its parent's).
fn module_scopes(file: &[String], tokens: &[Token]) -> Vec<Vec<String>> {
    let mut scope = file.to_vec();
    // The brace depth at which each inline module opened.
    let mut opened: Vec<usize> = Vec::new();
    let mut depth = 0;
    let mut scopes = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        scopes.push(scope.clone());
        match token {
            Token::Punct('{') => {
                depth += 1;
                if let (Some(Token::Word(name)), Some(Token::Word(keyword))) =
                    (tokens.get(i.wrapping_sub(1)), tokens.get(i.wrapping_sub(2)))
                    && keyword == "mod"
                {
                    scope.push(name.clone());
                    opened.push(depth);
                }
            }
            Token::Punct('}') => {
                if opened.last() == Some(&depth) {
                    opened.pop();
                    scope.pop();
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    scopes
}

/// Whether the tokens before a `use` make it `pub` (`pub use`, `pub(crate) use`).
fn is_pub_before(before: &[Token]) -> bool {
    match before.last() {
        Some(Token::Word(word)) => word == "pub",
        Some(Token::Punct(')')) => {
            let open = before.iter().rposition(|t| *t == Token::Punct('('));
            open.is_some_and(|open| open > 0 && before[open - 1] == Token::Word("pub".into()))
        }
        _ => false,
    }
}

/// A path as written in `here` made absolute from the crate root; `None` for a path
/// outside the crate (`std::…`, another crate).
fn absolute(
    here: &[String],
    segments: &[String],
    modules: &BTreeMap<Vec<String>, String>,
) -> Option<Vec<String>> {
    let first = segments.first()?;
    match first.as_str() {
        "crate" => Some(segments[1..].to_vec()),
        "self" => Some([here, &segments[1..]].concat()),
        "super" => {
            let supers = segments.iter().take_while(|s| *s == "super").count();
            let base = &here[..here.len().saturating_sub(supers)];
            Some([base, &segments[supers..]].concat())
        }
        _ => {
            // `use child::Item;` names a child module of this one.
            let path = [here, segments].concat();
            modules
                .contains_key(&path[..here.len() + 1])
                .then_some(path)
        }
    }
}

/// The paths a `use` tree stands for: `a::{b, c::{d, e as f}}` is `a::b`, `a::c::d`,
/// `a::c::e` (a rename does not change what is imported).
fn expand_use_tree(tree: &[Token]) -> Vec<Vec<String>> {
    fn parse(tokens: &[Token], at: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        loop {
            match tokens.get(*at) {
                Some(Token::PathSep) => *at += 1,
                Some(Token::Punct('{')) => {
                    *at += 1;
                    loop {
                        match tokens.get(*at) {
                            None => return,
                            Some(Token::Punct('}')) => {
                                *at += 1;
                                return;
                            }
                            Some(Token::Punct(',')) => *at += 1,
                            Some(_) => parse(tokens, at, &path, out),
                        }
                    }
                }
                Some(Token::Word(word)) if word == "as" => {
                    *at += 2;
                    break;
                }
                Some(Token::Word(word)) => {
                    path.push(word.clone());
                    *at += 1;
                }
                Some(Token::Punct('*')) => {
                    path.push("*".to_owned());
                    *at += 1;
                }
                _ => break,
            }
        }
        if path.len() > prefix.len() {
            out.push(path);
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    while at < tree.len() {
        let before = at;
        parse(tree, &mut at, &[], &mut out);
        if at == before {
            at += 1;
        }
    }
    out
}

#[derive(Debug, PartialEq)]
enum Token {
    /// An identifier, keyword or number.
    Word(String),
    /// `::`
    PathSep,
    Punct(char),
}

fn tokens(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
            continue;
        }
        if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(Token::PathSep);
            i += 2;
            continue;
        }
        if !c.is_whitespace() {
            out.push(Token::Punct(c));
        }
        i += 1;
    }
    out
}

/// Source with comments removed and string and character literals emptied, so that a
/// path in a doc comment or an error message is not taken for an import.
fn strip_comments_and_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if (c == 'r' || c == 'b')
            && (i == 0 || !is_word(at(i - 1)))
            && raw_string_start(&chars, i).is_some()
        {
            let (hashes, body) = raw_string_start(&chars, i).unwrap();
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            i = body;
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                i += 1;
            }
            i += closing.len();
            out.push_str("\"\"");
        } else if c == '"' || (c == 'b' && at(i + 1) == '"' && (i == 0 || !is_word(at(i - 1)))) {
            i += if c == 'b' { 2 } else { 1 };
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A character literal ('x', '\n', '\''); otherwise a lifetime, kept.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// For a raw string literal starting at `i` (`r"`, `r#"`, `br##"`…): its number of
/// `#` and where its body starts.
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|c| **c == '#').count();
    j += hashes;
    (chars.get(j) == Some(&'"')).then_some((hashes, j + 1))
}
