//! Colour, when the output is a terminal and `NO_COLOR` is not set; and what may reach the
//! terminal at all.

use std::borrow::Cow;
use std::io::IsTerminal;

use anstyle::{AnsiColor, Style};

/// Whether `NO_COLOR` asks for no colour.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Applies colour to text, or leaves it plain.
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    enabled: bool,
}

impl Paint {
    /// Colour for standard output if it is a terminal and `NO_COLOR` is unset or empty.
    pub fn for_stdout() -> Paint {
        Paint {
            enabled: !no_color() && std::io::stdout().is_terminal(),
        }
    }

    /// Colour for standard error (log lines, errors) if it is a terminal and `NO_COLOR` is
    /// unset or empty.
    pub fn for_stderr() -> Paint {
        Paint {
            enabled: !no_color() && std::io::stderr().is_terminal(),
        }
    }

    /// Whether text is coloured.
    pub fn enabled(self) -> bool {
        self.enabled
    }

    /// Never colour (files, tests, JSON).
    pub fn plain() -> Paint {
        Paint { enabled: false }
    }

    fn apply(self, style: Style, text: &str) -> String {
        if self.enabled {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    pub fn create(self, text: &str) -> String {
        self.apply(AnsiColor::Green.on_default(), text)
    }

    pub fn update(self, text: &str) -> String {
        self.apply(AnsiColor::Yellow.on_default(), text)
    }

    pub fn remove(self, text: &str) -> String {
        self.apply(AnsiColor::Red.on_default(), text)
    }

    pub fn blocker(self, text: &str) -> String {
        self.apply(AnsiColor::Red.on_default().bold(), text)
    }

    pub fn bold(self, text: &str) -> String {
        self.apply(Style::new().bold(), text)
    }

    pub fn dim(self, text: &str) -> String {
        self.apply(Style::new().dimmed(), text)
    }
}

/// `text` as standard output may show it: no escape sequence but colour on a terminal, none at
/// all elsewhere (`quote::output`). Every line a command prints passes here.
pub fn stdout_text(text: &str) -> Cow<'_, str> {
    crate::quote::output(text, std::io::stdout().is_terminal())
}

/// [`stdout_text`] for standard error.
pub fn stderr_text(text: &str) -> Cow<'_, str> {
    crate::quote::output(text, std::io::stderr().is_terminal())
}
