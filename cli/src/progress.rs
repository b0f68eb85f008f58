//! Progress of a long run on stderr: a spinner or a bar (indicatif) when stderr is a
//! terminal, one line per phase when it is not (a log, CI), nothing with `--quiet`.
//! Results and errors are printed by the commands themselves, never through here.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Where a run says what it is doing.
pub enum Progress {
    Quiet,
    /// One `featc: PHASE` line per phase (stderr is not a terminal).
    Lines,
    Terminal(ProgressBar),
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            Progress::Terminal(bar)
        } else {
            Progress::Lines
        }
    }

    /// A new phase of the run.
    pub fn phase(&self, phase: &str) {
        match self {
            Progress::Quiet => {}
            Progress::Lines => eprintln!("featc: {phase}"),
            Progress::Terminal(bar) => {
                bar.set_style(ProgressStyle::default_spinner());
                bar.set_message(phase.to_string());
            }
        }
    }

    /// How far the current phase is, `done` of `total` `unit`s (a bar on a terminal;
    /// nothing more in lines, which already said the phase).
    pub fn advance(&self, done: u64, total: u64, unit: &str) {
        if let Progress::Terminal(bar) = self {
            if bar.length() != Some(total) {
                let style = ProgressStyle::with_template(&format!(
                    "{{msg}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{eta}} left)"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style);
                bar.set_length(total);
            }
            bar.set_position(done);
        }
    }

    /// The run is over: the terminal line is cleared for the summary.
    pub fn finish(&self) {
        if let Progress::Terminal(bar) = self {
            bar.finish_and_clear();
        }
    }
}
