//! Any byte string given to the scenario loader yields a scenario or a clean error,
//! never a panic, a stack overflow or a hang. Error rendering is exercised too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(err) = spotcheck::scenario::load_str("fuzz.toml", &text) {
        let _ = err.render(false);
    }
    // Templates alone (the `{{ … }}` syntax).
    let _ = spotcheck::scenario::Template::parse(&text);
});
