//! The one progress bar of every long command, on stderr (indicatif): drawn only when stderr is a
//! terminal and `--quiet` is not given, cleared when done. It reads
//! `simulate [=========>          ] 120/810 calls  00:00:05 elapsed, 4s left`
//! ("left", not "eta": η is a model parameter here).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress(ProgressBar);

/// The template shared by every command; `{prefix}` is the command, `unit` what is counted.
fn template(unit: &str) -> String {
    format!(
        "{{prefix}} [{{bar:40}}] {{pos}}/{{len}} {unit}  {{elapsed_precise}} elapsed, {{eta}} left  {{msg}}"
    )
}

impl Progress {
    /// A bar for `total` items of `unit` (`calls`, `qubits`) done by `command`.
    pub fn new(command: &str, total: u64, unit: &str, quiet: bool) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        if let Ok(style) = ProgressStyle::with_template(&template(unit)) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(command.to_string());
        Progress(bar)
    }

    /// Sets the position (monotone: a lower value from a racing thread is ignored).
    pub fn set(&self, pos: u64) {
        if pos > self.0.position() {
            self.0.set_position(pos);
        }
    }

    /// A note after the bar (e.g. reads and QPU seconds of a campaign).
    pub fn message(&self, text: String) {
        self.0.set_message(text);
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_valid_and_says_left_not_eta() {
        let t = template("calls");
        assert!(ProgressStyle::with_template(&t).is_ok(), "{t}");
        assert!(t.contains("left") && !t.contains("(eta"), "{t}");
    }
}
