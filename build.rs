//! Embeds every `scenarios/SUITE/*.toml` file as a built-in check: writes
//! `$OUT_DIR/builtin_files.rs`, the `(path, text)` list `scenario::builtin::FILES`
//! includes, in report order. Adding a file to the folder is all a new check takes.

use std::path::Path;

#[path = "src/scenario/builtin_order.rs"]
mod builtin_order;

fn main() {
    println!("cargo:rerun-if-changed=scenarios");
    // Read at run time, not baked in with `env!` when the build script is compiled: a
    // build script compiled in another checkout (a copied `target/`, a moved worktree)
    // would otherwise embed that checkout's scenario files.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("scenarios");
    let mut files: Vec<String> = Vec::new();
    for suite in std::fs::read_dir(&root).expect("read scenarios/") {
        let suite = suite.expect("read scenarios/");
        if !suite.file_type().expect("file type").is_dir() {
            continue;
        }
        for file in std::fs::read_dir(suite.path()).expect("read a suite folder") {
            let path = file.expect("read a suite folder").path();
            if path.extension().is_some_and(|e| e == "toml") {
                let relative = path.strip_prefix(&root).expect("under scenarios/");
                let parts: Vec<&str> = relative
                    .iter()
                    .map(|p| p.to_str().expect("UTF-8 file names"))
                    .collect();
                files.push(parts.join("/"));
            }
        }
    }
    files.sort_by(|a, b| builtin_order::sort_key(a).cmp(&builtin_order::sort_key(b)));

    let mut out = String::from("&[\n");
    for relative in &files {
        let absolute = root.join(relative);
        out.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            format!("scenarios/{relative}"),
            absolute.to_str().expect("UTF-8 path"),
        ));
    }
    out.push_str("]\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("builtin_files.rs");
    std::fs::write(target, out).expect("write builtin_files.rs");
}
