//! A progress bar on stderr (indicatif), hidden when stderr is not a terminal or when asked.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress(ProgressBar);

impl Progress {
    pub fn new(total: u64, unit: &str, quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(total),
            if quiet {
                ProgressDrawTarget::hidden()
            } else {
                ProgressDrawTarget::stderr()
            },
        );
        let template =
            format!("{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit} (eta {{eta}})");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress(bar)
    }

    /// Sets the position (monotone: a lower value from a racing thread is ignored).
    pub fn set(&self, pos: u64) {
        if pos > self.0.position() {
            self.0.set_position(pos);
        }
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
