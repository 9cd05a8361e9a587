//! The binary stands alone: it links no system TLS library, so the release archives, the
//! container image and `cargo install` work without OpenSSL (`libssl`/`libcrypto`) on
//! the machine. Linux only (`ldd`); other systems skip with a visible message. The
//! static musl release artifact is checked in `.github/workflows/ci.yml` (`file` says
//! "statically linked", `ldd` lists no library).

use std::io::Write;
use std::process::Command;

use crate::support::tools;

/// The lines of `ldd BINARY` naming libssl or libcrypto. `ldd` must succeed: a failing
/// `ldd` prints no library at all, which would read as "links nothing".
fn openssl_libraries(binary: &str) -> Vec<String> {
    let output = Command::new("ldd")
        .arg(binary)
        .output()
        .unwrap_or_else(|err| panic!("cannot run `ldd {binary}`: {err}"));
    assert!(
        output.status.success(),
        "`ldd {binary}` failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    // A dynamic binary always lists its C library: an empty listing is no evidence.
    assert!(
        stdout.contains("libc.so"),
        "`ldd {binary}` lists no libc, so it listed nothing: {stdout}"
    );
    stdout
        .lines()
        .filter(|line| line.contains("libssl") || line.contains("libcrypto"))
        .map(|line| line.trim().to_owned())
        .collect()
}

#[test]
fn the_binary_links_no_system_openssl() {
    if !cfg!(target_os = "linux") {
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIPPED: the ldd check runs on Linux only"
        );
        return;
    }
    let binary = env!("CARGO_BIN_EXE_spotcheck");
    let linked = openssl_libraries(binary);
    assert!(linked.is_empty(), "{binary} links {linked:?}");

    // The check itself must see OpenSSL where it is linked: the `openssl` command is.
    if !tools::require_tool(tools::Tool::Openssl) {
        return;
    }
    let openssl = which("openssl").expect("require_tool found openssl on PATH");
    assert!(
        !openssl_libraries(&openssl).is_empty(),
        "ldd shows no libssl for {openssl}: the check above proves nothing"
    );
}

/// The path of a command on PATH.
fn which(name: &str) -> Option<String> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
            .map(|found| found.display().to_string())
    })
}
