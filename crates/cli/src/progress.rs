//! Progress bars on stderr, hidden when stderr is not a terminal or with `--no-progress`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-count bar for reading inputs.
pub fn bytes_bar(total: u64, enabled: bool, label: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), draw_target(enabled));
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:>10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_string());
    bar
}

fn draw_target(enabled: bool) -> ProgressDrawTarget {
    if enabled && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A spinner with a message, for work of unknown length.
pub fn spinner(enabled: bool, label: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, draw_target(enabled));
    if let Ok(style) = ProgressStyle::with_template("{prefix:>10} {spinner} {msg} {elapsed}") {
        bar.set_style(style);
    }
    bar.set_prefix(label.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// A bar counting finished tasks, with the estimated time to finish.
pub fn count_bar(total: u64, enabled: bool, label: &str, unit: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), draw_target(enabled));
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{prefix:>10}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{per_sec}} eta {{eta}}"
    )) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_string());
    bar
}
