//! The binary stands alone: it links no system TLS library, so the release archives, the
//! container image and `cargo install` work without OpenSSL (`libssl`/`libcrypto`) on
//! the machine. Linux only (`ldd`); other systems skip with a message.

use std::process::Command;

/// The lines of `ldd BINARY` naming libssl or libcrypto.
fn openssl_libraries(binary: &str) -> Vec<String> {
    let output = Command::new("ldd")
        .arg(binary)
        .output()
        .unwrap_or_else(|err| panic!("cannot run `ldd {binary}`: {err}"));
    // `ldd` on a static binary says so on stderr and exits 1: nothing is linked.
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains("libssl") || line.contains("libcrypto"))
        .map(|line| line.trim().to_owned())
        .collect()
}

#[test]
fn the_binary_links_no_system_openssl() {
    if !cfg!(target_os = "linux") {
        eprintln!("SKIPPED: the ldd check runs on Linux only");
        return;
    }
    let binary = env!("CARGO_BIN_EXE_spotcheck");
    let linked = openssl_libraries(binary);
    assert!(linked.is_empty(), "{binary} links {linked:?}");

    // The check itself must see OpenSSL where it is linked: the `openssl` command is.
    match which("openssl") {
        Some(openssl) => assert!(
            !openssl_libraries(&openssl).is_empty(),
            "ldd shows no libssl for {openssl}: the check above proves nothing"
        ),
        None => {
            eprintln!("SKIPPED: the control (`openssl` links libssl) needs the openssl command")
        }
    }
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
