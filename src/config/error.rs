//! Configuration errors as diagnostics: the file, a caret under the offending text, a message
//! and a help line. Line and column are kept for tests, plain and JSON output. Nothing secret
//! is shown: the snippet comes from the file's text with secret values masked (see `mask`),
//! long lines are cut around the caret, and messages are checked against the secret values
//! read so far.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use super::secret::SecretValues;

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
    /// The length of the `file:line:column: ` the message starts with.
    prefix: usize,
    /// The lines shown, with the label under the offending text (boxed: errors travel far).
    snippet: Option<Arc<Snippet>>,
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

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.snippet.as_deref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let snippet = self.snippet.as_ref()?;
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some(snippet.label.clone()), snippet.span),
        )))
    }
}

/// The longest text underlined in a snippet, in bytes.
const MAX_UNDERLINE: usize = 1_000;
/// The most characters of one line a snippet shows; a longer line is cut around the caret.
const MAX_SHOWN: usize = 120;
/// The most characters of a value quoted in a message.
const MAX_QUOTED: usize = 80;

/// The lines of the file a diagnostic shows (masked, long lines cut), with where they stand.
#[derive(Debug)]
struct Snippet {
    name: String,
    text: String,
    /// The offending text within `text`, and what is written under it.
    span: SourceSpan,
    label: String,
    /// 0-based line of the file the snippet's first line is.
    first_line: usize,
    /// The snippet's line holding the caret, and how many characters were cut before it.
    caret_line: usize,
    cut_before: usize,
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        let line = inner.line();
        let column = inner.column()
            + if line == self.caret_line {
                self.cut_before
            } else {
                0
            };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            line + self.first_line,
            column,
            inner.line_count(),
        )))
    }
}

/// The file being read, for positions and snippets.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    raw: Arc<String>,
    /// The text with secret values masked: what snippets are cut from.
    masked: Arc<String>,
    /// Secret values read so far (from `env()`, `file()`, sensitive variables, secret
    /// positions): never quoted.
    secrets: RefCell<SecretValues>,
}

impl SourceFile {
    pub fn new(name: &str, text: &str) -> SourceFile {
        SourceFile {
            name: name.to_string(),
            raw: Arc::new(text.to_string()),
            masked: Arc::new(super::mask::mask(text)),
            secrets: RefCell::new(SecretValues::default()),
        }
    }

    pub fn text(&self) -> &str {
        &self.raw
    }

    /// Remembers a secret value, so that no message quotes it.
    pub fn secret(&self, value: &str) {
        self.secrets.borrow_mut().insert(value);
    }

    /// The secret values read so far.
    pub fn secrets(&self) -> SecretValues {
        self.secrets.borrow().clone()
    }

    /// Whether `value` is, or holds, a secret value read so far.
    pub fn holds_secret(&self, value: &str) -> bool {
        self.secrets.borrow().found_in(value)
    }

    /// `value` as a message may quote it: in quotes, cut when long, or not at all when it is
    /// (or holds) a secret value.
    pub fn quote(&self, value: &str) -> String {
        if self.holds_secret(value) {
            return "(a secret value, not shown)".to_string();
        }
        quote(value)
    }

    /// `offset` moved back to the start of the character it falls in (and into the text).
    fn char_start(&self, offset: usize) -> usize {
        char_start(&self.raw, offset)
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
        let snippet = self.snippet(start..start + len, line, label);
        let secrets = self.secrets.borrow();
        let prefix = format!("{}:{line}:{column}: ", self.name);
        ConfigError {
            message: format!("{prefix}{}", secrets.scrub(&message.into())),
            prefix: prefix.len(),
            help: help.map(|h| secrets.scrub(&h)),
            line,
            column,
            snippet: Some(Arc::new(snippet)),
        }
    }

    /// The lines around `span` (which starts on 1-based `line`), masked and cut, and the
    /// span within them.
    fn snippet(&self, span: Range<usize>, line: usize, label: &str) -> Snippet {
        let text = self.masked.as_str();
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_range = |n: usize| {
            let start = starts[n];
            let end = starts.get(n + 1).map_or(text.len(), |next| next - 1);
            start..end
        };
        let caret = line - 1;
        let last_line = starts
            .iter()
            .rposition(|&s| s <= span.end.saturating_sub(1).max(span.start))
            .unwrap_or(caret)
            .clamp(caret, caret + 4);
        let first = caret.saturating_sub(1);
        let last = (last_line + 1).min(starts.len() - 1);
        let mut out = String::new();
        let (mut from, mut to) = (0, 0);
        let mut cut_before = 0;
        for n in first..=last {
            let range = line_range(n);
            let whole = &text[range.clone()];
            let chars = whole.chars().count();
            // The window of the line shown: around the caret on its line, the start elsewhere.
            let window_start = if n == caret && chars > MAX_SHOWN {
                let caret_char = text[range.start..span.start].chars().count();
                caret_char.saturating_sub(MAX_SHOWN / 3)
            } else {
                0
            };
            let shown: String = whole.chars().skip(window_start).take(MAX_SHOWN).collect();
            let cut_start = window_start > 0;
            let cut_end = window_start + MAX_SHOWN < chars;
            let byte_start = range.start
                + whole
                    .char_indices()
                    .nth(window_start)
                    .map_or(whole.len(), |(i, _)| i);
            let byte_end = byte_start + shown.len();
            let prefix = if cut_start { "…" } else { "" };
            // File offsets in this line map into the snippet.
            let base = out.len() + prefix.len();
            let map = |offset: usize| base + offset.clamp(byte_start, byte_end) - byte_start;
            if n == caret {
                from = map(span.start);
                // miette counts the header's column in bytes of the snippet.
                cut_before = (byte_start - range.start).saturating_sub(prefix.len());
            }
            if n == last_line {
                to = map(span.end);
            }
            out.push_str(prefix);
            out.push_str(&shown);
            if cut_end {
                out.push('…');
            }
            if n < last {
                out.push('\n');
            }
        }
        // A secret value read elsewhere may stand in the text under a name that does not say
        // so (the same value given to another property).
        let out = self.secrets.borrow().mask(&out);
        let from = from.min(out.len());
        let len = match to.clamp(from, out.len()) - from {
            0 => out[from..].chars().next().map_or(0, char::len_utf8),
            len => len,
        };
        Snippet {
            name: self.name.clone(),
            text: out,
            span: (from, len).into(),
            label: label.to_string(),
            first_line: first,
            caret_line: caret - first,
            cut_before,
        }
    }
}

/// `offset` moved back to the start of the character of `text` it falls in.
fn char_start(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// `value` in quotes, cut when long.
pub fn quote(value: &str) -> String {
    if value.chars().count() > MAX_QUOTED {
        let head: String = value.chars().take(MAX_QUOTED).collect();
        format!(
            "\"{}…\" ({} characters)",
            head.escape_debug(),
            value.chars().count()
        )
    } else {
        format!("\"{}\"", value.escape_debug())
    }
}

impl ConfigError {
    /// An error about the file as a whole (it cannot be read).
    pub fn file(message: impl Into<String>, help: Option<String>) -> ConfigError {
        ConfigError {
            message: message.into(),
            prefix: 0,
            help,
            line: 0,
            column: 0,
            snippet: None,
        }
    }

    /// The message without the `file:line:column: ` it starts with.
    pub fn text(&self) -> &str {
        self.message.get(self.prefix..).unwrap_or(&self.message)
    }

    /// The file the error is in, when it points into one.
    pub fn file_name(&self) -> Option<&str> {
        self.snippet.as_ref().map(|s| s.name.as_str())
    }

    /// The error as JSON: `{"error": {"file", "line", "column", "message", "help"}}` (line
    /// and column null when the error has no position).
    pub fn to_json(&self) -> serde_json::Value {
        let position = |n: usize| (n > 0).then_some(n);
        serde_json::json!({
            "error": {
                "file": self.file_name(),
                "line": position(self.line),
                "column": position(self.column),
                "message": self.text(),
                "help": self.help,
            }
        })
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
