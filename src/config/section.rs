//! Reading one block body: known attributes and blocks only (with "did you mean" for the
//! rest), each attribute evaluated and checked for its type, with errors at its position.

use std::collections::BTreeMap;
use std::ops::Range;

use hcl::edit::structure::{Attribute, Block, BlockLabel, Body, Structure};

use super::error::{did_you_mean, ConfigError};
use super::eval::{span_of, Kind, Scope, Value};
use super::values::{ByteSize, HumanDuration, Pattern, PatternSet};

/// A string and where it stands in the file.
pub type Located = (String, Range<usize>);
/// A map entry: key, where the key stands, value.
pub type Entry = (String, Range<usize>, String);

pub struct Section<'a> {
    pub scope: &'a Scope<'a>,
    /// How messages name this block, such as `cluster "source"`.
    pub what: String,
    /// Where to point for a missing attribute: the block's header.
    pub header: Range<usize>,
    attrs: BTreeMap<&'a str, &'a Attribute>,
    blocks: Vec<&'a Block>,
}

/// The values a setting may take, and why (shown as help when a value is outside).
pub struct Bounds<T> {
    pub min: T,
    pub max: T,
    pub why: String,
}

/// Blocks that take one label, such as `cluster "source"`; every other block takes none.
const LABELLED: &[&str] = &["cluster", "variable"];

pub fn block_label(block: &Block) -> Option<(&str, Range<usize>)> {
    match block.labels.first()? {
        BlockLabel::String(s) => Some((s.value().as_str(), span_of(s))),
        BlockLabel::Ident(i) => Some((i.value().as_str(), span_of(i))),
    }
}

impl<'a> Section<'a> {
    /// Reads `body`, refusing attributes and blocks not in `attrs` / `blocks` and duplicates.
    pub fn new(
        scope: &'a Scope<'a>,
        what: impl Into<String>,
        header: Range<usize>,
        body: &'a Body,
        attrs: &[&str],
        blocks: &[&str],
    ) -> Result<Section<'a>, ConfigError> {
        let what = what.into();
        let known: Vec<&str> = attrs.iter().chain(blocks).copied().collect();
        let mut section = Section {
            scope,
            what,
            header,
            attrs: BTreeMap::new(),
            blocks: Vec::new(),
        };
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let key = attr.key.value().as_str();
                    let key_span = span_of(&attr.key);
                    if !attrs.contains(&key) {
                        let hint = if blocks.contains(&key) {
                            Some(format!("`{key}` is a block: write {key} {{ … }}"))
                        } else {
                            did_you_mean(key, &known).or_else(|| takes(&section.what, &known))
                        };
                        return Err(scope.file.error(
                            key_span,
                            "unknown attribute",
                            format!("unknown attribute `{key}` in {}", section.what),
                            hint,
                        ));
                    }
                    if section.attrs.insert(key, attr).is_some() {
                        return Err(scope.file.error(
                            key_span,
                            "set again here",
                            format!("`{key}` is set twice in {}", section.what),
                            Some("keep one of the two".into()),
                        ));
                    }
                }
                Structure::Block(block) => {
                    let name = block.ident.value().as_str();
                    if !blocks.contains(&name) {
                        let hint = if attrs.contains(&name) {
                            Some(format!("`{name}` is an attribute: write {name} = …"))
                        } else {
                            did_you_mean(name, &known).or_else(|| takes(&section.what, &known))
                        };
                        return Err(scope.file.error(
                            span_of(&block.ident),
                            "unknown block",
                            format!("unknown block `{name}` in {}", section.what),
                            hint,
                        ));
                    }
                    let labels = usize::from(LABELLED.contains(&name));
                    if let Some(extra) = block.labels.get(labels) {
                        let takes = if labels == 0 { "no label" } else { "one label" };
                        return Err(scope.file.error(
                            span_of(extra),
                            "unexpected label",
                            format!("block `{name}` takes {takes}"),
                            Some(format!("remove the label \"{}\"", extra.as_str())),
                        ));
                    }
                    section.blocks.push(block);
                }
            }
        }
        Ok(section)
    }

    /// The span of an attribute's key, if set.
    pub fn key_span(&self, name: &str) -> Option<Range<usize>> {
        self.attrs.get(name).map(|a| span_of(&a.key))
    }

    pub fn value(&self, name: &str) -> Result<Option<Value>, ConfigError> {
        self.attrs
            .get(name)
            .map(|attr| self.scope.eval(&attr.value))
            .transpose()
    }

    /// An error at `span` (see [`SourceFile::error`](super::error::SourceFile::error)).
    pub fn error(
        &self,
        span: Range<usize>,
        label: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) -> ConfigError {
        self.scope.file.error(span, label, message, help)
    }

    /// A required attribute is missing: point at the block's header.
    pub fn missing(&self, name: &str, example: &str) -> ConfigError {
        self.scope.file.error(
            self.header.clone(),
            "in this block",
            format!("missing required attribute `{name}` in {}", self.what),
            Some(format!("add {name} = {example}")),
        )
    }

    /// The value of `name` is not of the `expected` type. The value itself is never quoted: it
    /// may be a secret.
    pub fn wrong_type(&self, name: &str, value: &Value, expected: &str) -> ConfigError {
        let example = match expected {
            "a string" => format!("{name} = \"…\""),
            "true or false" => format!("{name} = true"),
            "a number" => format!("{name} = 4"),
            "a list of strings" => format!("{name} = [\"…\", \"…\"]"),
            _ => format!("{name} = {{ \"key\" = \"value\" }}"),
        };
        self.scope.file.error(
            value.span.clone(),
            "wrong type",
            format!(
                "`{name}` in {} must be {expected}, not {}",
                self.what,
                value.kind.type_name()
            ),
            Some(format!("write it as {example}")),
        )
    }

    /// Refuses a control character in `text` (the value of `name` at `span`): a NUL cannot
    /// reach librdkafka, and a line break or other control character in a name, path or user
    /// would write lines of its own into exported files. `multiline` allows tabs and line
    /// breaks (secrets and property values, such as a PEM).
    fn plain_text(
        &self,
        name: &str,
        text: &str,
        span: &Range<usize>,
        multiline: bool,
    ) -> Result<(), ConfigError> {
        let allowed = |c: char| multiline && matches!(c, '\t' | '\n' | '\r');
        match text
            .chars()
            .enumerate()
            .find(|(_, c)| c.is_control() && !allowed(*c))
        {
            None => Ok(()),
            Some((at, c)) => Err(self.scope.file.error(
                span.clone(),
                "control character",
                format!(
                    "`{name}` in {} holds a control character (U+{:04X}) at character {}",
                    self.what,
                    u32::from(c),
                    at + 1
                ),
                Some(
                    "remove it: names, paths, users and hosts are one line of printable text"
                        .into(),
                ),
            )),
        }
    }

    pub fn string(&self, name: &str) -> Result<Option<(String, Range<usize>)>, ConfigError> {
        match self.value(name)? {
            None => Ok(None),
            Some(Value {
                kind: Kind::String(s),
                span,
            }) => {
                let secret = super::secret::is_secret_name(name);
                self.plain_text(name, &s, &span, secret)?;
                Ok(Some((s, span)))
            }
            Some(other) => Err(self.wrong_type(name, &other, "a string")),
        }
    }

    pub fn required_string(
        &self,
        name: &str,
        example: &str,
    ) -> Result<(String, Range<usize>), ConfigError> {
        self.string(name)?
            .ok_or_else(|| self.missing(name, example))
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ConfigError> {
        match self.value(name)? {
            None => Ok(None),
            Some(Value {
                kind: Kind::Bool(b),
                ..
            }) => Ok(Some(b)),
            Some(other) => Err(self.wrong_type(name, &other, "true or false")),
        }
    }

    /// A whole number within `range`.
    pub fn integer(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, ConfigError> {
        match self.value(name)? {
            None => Ok(None),
            Some(Value {
                kind: Kind::Number(n),
                span,
            }) => {
                if n.fract() != 0.0 || n < *range.start() as f64 || n > *range.end() as f64 {
                    Err(self.scope.file.error(
                        span,
                        "out of range",
                        format!(
                            "`{name}` in {} must be a whole number from {} to {}",
                            self.what,
                            range.start(),
                            range.end()
                        ),
                        Some("write a whole number, without quotes or decimals".into()),
                    ))
                } else {
                    Ok(Some(n as u64))
                }
            }
            Some(other) => Err(self.wrong_type(name, &other, "a number")),
        }
    }

    pub fn string_list(&self, name: &str) -> Result<Option<Vec<Located>>, ConfigError> {
        match self.value(name)? {
            None => Ok(None),
            Some(Value {
                kind: Kind::List(items),
                ..
            }) => items
                .into_iter()
                .map(|item| match item.kind {
                    Kind::String(s) => {
                        self.plain_text(name, &s, &item.span, false)?;
                        Ok((s, item.span))
                    }
                    _ => Err(self.wrong_type(name, &item, "a list of strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.wrong_type(name, &other, "a list of strings")),
        }
    }

    /// A map of strings (numbers and bools are written as text, as Kafka configs are).
    pub fn string_map(&self, name: &str) -> Result<Option<Vec<Entry>>, ConfigError> {
        match self.value(name)? {
            None => Ok(None),
            Some(Value {
                kind: Kind::Map(entries),
                ..
            }) => entries
                .into_iter()
                .map(|(key, key_span, value)| {
                    self.plain_text(name, &key, &key_span, false)?;
                    match value.kind {
                        Kind::String(s) => {
                            self.plain_text(&key, &s, &value.span, true)?;
                            Ok((key, key_span, s))
                        }
                        Kind::Number(n) if n.fract() == 0.0 => {
                            Ok((key, key_span, format!("{}", n as i64)))
                        }
                        Kind::Number(n) => Ok((key, key_span, n.to_string())),
                        Kind::Bool(b) => Ok((key, key_span, b.to_string())),
                        _ => Err(self.wrong_type(name, &value, "an object of strings")),
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.wrong_type(name, &other, "an object of strings")),
        }
    }

    /// One of `choices` (by name).
    pub fn choice<T: Copy>(
        &self,
        name: &str,
        choices: &[(&str, T)],
    ) -> Result<Option<T>, ConfigError> {
        let Some((text, span)) = self.string(name)? else {
            return Ok(None);
        };
        if let Some((_, value)) = choices.iter().find(|(n, _)| *n == text) {
            return Ok(Some(*value));
        }
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let hint = did_you_mean(&text, &names)
            .unwrap_or_else(|| format!("use one of: {}", names.join(", ")));
        Err(self.scope.file.error(
            span,
            "not a valid choice",
            format!(
                "`{name}` in {} cannot be {}",
                self.what,
                self.scope.file.quote(&text)
            ),
            Some(hint),
        ))
    }

    /// A duration within `bounds`; out of it, an error at the value giving the range.
    pub fn duration_in(
        &self,
        name: &str,
        bounds: &Bounds<HumanDuration>,
    ) -> Result<Option<HumanDuration>, ConfigError> {
        let found = self.parsed_at(
            name,
            "a duration",
            HumanDuration::parse,
            "write a number and a unit, such as \"30s\" or \"5m\"",
        )?;
        self.bounded(name, found, bounds)
    }

    /// A size within `bounds`; out of it, an error at the value giving the range.
    pub fn size_in(
        &self,
        name: &str,
        bounds: &Bounds<ByteSize>,
    ) -> Result<Option<ByteSize>, ConfigError> {
        let found = self.parsed_at(
            name,
            "a size",
            ByteSize::parse,
            "write a number and a unit, such as \"64KiB\" or \"50MiB\"",
        )?;
        self.bounded(name, found, bounds)
    }

    fn bounded<T: PartialOrd + std::fmt::Display>(
        &self,
        name: &str,
        found: Option<(T, Range<usize>, String)>,
        bounds: &Bounds<T>,
    ) -> Result<Option<T>, ConfigError> {
        let Some((value, span, text)) = found else {
            return Ok(None);
        };
        if value >= bounds.min && value <= bounds.max {
            return Ok(Some(value));
        }
        Err(self.scope.file.error(
            span,
            "out of range",
            format!(
                "`{name}` in {} must be from {} to {}, not {}",
                self.what,
                bounds.min,
                bounds.max,
                self.scope.file.quote(&text)
            ),
            Some(bounds.why.to_string()),
        ))
    }

    /// The value of `name` parsed, with where it stands and its text; a value that does not
    /// parse is an error there (which quotes no secret value).
    fn parsed_at<T>(
        &self,
        name: &str,
        what: &str,
        parse: impl Fn(&str) -> Result<T, String>,
        help: &str,
    ) -> Result<Option<(T, Range<usize>, String)>, ConfigError> {
        let Some((text, span)) = self.string(name)? else {
            return Ok(None);
        };
        match parse(&text) {
            Ok(v) => Ok(Some((v, span, text))),
            Err(why) => {
                let why = if self.scope.file.holds_secret(&text) {
                    format!("{} is not {what}", self.scope.file.quote(&text))
                } else {
                    why
                };
                Err(self.scope.file.error(
                    span,
                    &format!("not {what}"),
                    format!("`{name}` in {}: {why}", self.what),
                    Some(help.to_string()),
                ))
            }
        }
    }

    /// A list of regular expressions, compiled together; a syntax error points into the
    /// pattern.
    pub fn patterns(&self, name: &str) -> Result<Option<PatternSet>, ConfigError> {
        let Some(items) = self.string_list(name)? else {
            return Ok(None);
        };
        let mut patterns = Vec::with_capacity(items.len());
        for (pattern, span) in &items {
            let pattern = Pattern::new(pattern).map_err(|(offset, reason)| {
                let start = literal_offset(self.scope.file.text(), span, offset);
                self.error(
                    start..start + 1,
                    "here",
                    format!("invalid regular expression in `{name}` of {}: {reason}", self.what),
                    Some("escape a literal dot or bracket with two backslashes, as in \"^orders\\\\..*\"".into()),
                )
            })?;
            patterns.push(pattern);
        }
        PatternSet::new(patterns).map(Some).map_err(|(index, reason)| {
            let span = index
                .and_then(|i| items.get(i))
                .map(|(_, span)| span.clone())
                .or_else(|| self.key_span(name))
                .unwrap_or(self.header.clone());
            self.error(
                span,
                "too large",
                format!("`{name}` of {} cannot be compiled: {reason}", self.what),
                Some("use fewer or simpler patterns (a bounded repetition such as {1000} grows the automaton)".into()),
            )
        })
    }

    /// The single block `name`, if present (twice is an error).
    pub fn block(&self, name: &str) -> Result<Option<&'a Block>, ConfigError> {
        let mut found = self
            .blocks
            .iter()
            .filter(|b| b.ident.value().as_str() == name);
        let first = found.next().copied();
        if let Some(second) = found.next() {
            return Err(self.scope.file.error(
                span_of(&second.ident),
                "again here",
                format!("block `{name}` appears twice in {}", self.what),
                Some("merge the two blocks into one".into()),
            ));
        }
        Ok(first)
    }

    /// Every block `name` (labelled blocks such as `cluster "source"`).
    pub fn blocks(&self, name: &'a str) -> impl Iterator<Item = &'a Block> + '_ {
        self.blocks
            .iter()
            .copied()
            .filter(move |b| b.ident.value().as_str() == name)
    }

    /// A section for a nested block.
    pub fn nested(
        &self,
        block: &'a Block,
        what: String,
        attrs: &[&str],
        blocks: &[&str],
    ) -> Result<Section<'a>, ConfigError> {
        let header = span_of(&block.ident);
        Section::new(self.scope, what, header, &block.body, attrs, blocks)
    }
}

/// The help for a name that is not near any known one: what the block takes.
fn takes(what: &str, known: &[&str]) -> Option<String> {
    Some(format!("{what} takes: {}", known.join(", ")))
}

/// The file offset of byte `offset` of a string literal's decoded value, accounting for
/// escapes such as `\\`.
fn literal_offset(text: &str, literal: &Range<usize>, offset: usize) -> usize {
    let raw = text.get(literal.start..literal.end).unwrap_or("");
    let Some(open) = raw.find('"') else {
        return literal.start;
    };
    let mut decoded = 0;
    let mut chars = raw[open + 1..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if decoded >= offset {
            return literal.start + open + 1 + i;
        }
        if c == '\\' {
            chars.next();
        }
        decoded += if c == '\\' { 1 } else { c.len_utf8() };
    }
    literal.start
}
