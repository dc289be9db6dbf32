//! Configuration errors as diagnostics: the file, a caret under the offending text, a message
//! and a help line. Line and column are kept for tests and plain output. Messages never quote
//! a secret's value.

use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// An error in the migration file (or in what it refers to: variables, files, environment).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
    pub help: Option<String>,
    /// 1-based line and column of the start of the offending text (0 when there is no file
    /// position, such as a file that cannot be read).
    pub line: usize,
    pub column: usize,
    span: Option<SourceSpan>,
    label: String,
    source_code: Option<Arc<NamedSource<String>>>,
}

impl Diagnostic for ConfigError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("kafka_migrate::config"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source_code
            .as_deref()
            .map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some(self.label.clone()), span),
        )))
    }
}

/// The longest text underlined in a snippet, in bytes.
const MAX_UNDERLINE: usize = 1_000;
/// The rightmost column a snippet's caret is drawn at; well inside what miette can draw (its
/// widths are 16-bit, and tabs count four).
const MAX_CARET_COLUMN: usize = 10_000;

/// The file being read, for positions and snippets.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<NamedSource<String>>,
    raw: Arc<String>,
}

impl SourceFile {
    pub fn new(name: &str, text: &str) -> SourceFile {
        SourceFile {
            name: name.to_string(),
            text: Arc::new(NamedSource::new(name, text.to_string()).with_language("hcl")),
            raw: Arc::new(text.to_string()),
        }
    }

    pub fn text(&self) -> &str {
        &self.raw
    }

    /// `offset` moved back to the start of the character it falls in (and into the text).
    fn char_start(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.raw.len());
        while !self.raw.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let before = &self.raw[..self.char_start(offset)];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    /// An error pointing at `span` with a short `label` under the caret.
    pub fn error(
        &self,
        span: Range<usize>,
        label: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) -> ConfigError {
        let start = self.char_start(span.start);
        let (line, column) = self.position(start);
        // An empty span, or one too long to underline, marks the character it starts on.
        let len = match self.char_start(span.end).saturating_sub(start) {
            len @ 1..=MAX_UNDERLINE => len,
            _ => self.raw[start..].chars().next().map_or(0, char::len_utf8),
        };
        // miette cannot draw a caret that far right (it panics); the message has the position.
        let span = (column <= MAX_CARET_COLUMN).then(|| (start, len).into());
        ConfigError {
            message: format!("{}:{line}:{column}: {}", self.name, message.into()),
            help,
            line,
            column,
            span,
            label: label.to_string(),
            source_code: Some(self.text.clone()),
        }
    }
}

impl ConfigError {
    /// An error about the file as a whole (it cannot be read).
    pub fn file(message: impl Into<String>, help: Option<String>) -> ConfigError {
        ConfigError {
            message: message.into(),
            help,
            line: 0,
            column: 0,
            span: None,
            label: String::new(),
            source_code: None,
        }
    }
}

/// "did you mean …?" for a name close to one of `known`.
pub fn did_you_mean(name: &str, known: &[&str]) -> Option<String> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| format!("did you mean `{k}`?"))
}
