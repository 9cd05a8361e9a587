//! The progress bar on standard error while checks run.
//!
//! It stays hidden for the first second (short runs never flash a bar), when standard
//! error is not a terminal (CI logs, pipes, tests), and with `--quiet`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes before the bar appears.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A progress bar over a known number of checks.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    enabled: bool,
    shown: bool,
}

impl Progress {
    /// A hidden bar over `total` checks; `wanted` is false with `--quiet`. The bar can
    /// only ever be drawn when standard error is a terminal.
    pub fn new(total: usize, wanted: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{elapsed}] {bar:30} {pos}/{len} checks {msg}")
        {
            bar.set_style(style);
        }
        Progress {
            bar,
            started: Instant::now(),
            enabled: wanted && std::io::stderr().is_terminal(),
            shown: false,
        }
    }

    /// Records how many checks are done, showing the bar once the run is over a second
    /// old (at the first update after that).
    pub fn update(&mut self, done: usize) {
        self.bar.set_position(done as u64);
        if self.enabled && !self.shown && self.started.elapsed() >= SHOW_AFTER {
            self.bar
                .set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
            // Updates come when checks finish; the spinner and the clock move between them.
            self.bar.enable_steady_tick(Duration::from_millis(100));
            self.shown = true;
        }
        if self.shown {
            self.bar.tick();
        }
    }

    /// Whether the bar is drawn (never when standard error is not a terminal).
    pub fn is_shown(&self) -> bool {
        self.shown
    }

    /// Removes the bar before the report is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_drawn_when_not_wanted() {
        let mut progress = Progress::new(3, false);
        progress.started -= SHOW_AFTER * 2;
        progress.update(1);
        assert!(!progress.is_shown());
        assert!(progress.bar.is_hidden());
        progress.finish();
    }
}
