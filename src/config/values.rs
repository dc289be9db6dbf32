//! Typed scalar values of the migration file: durations ("30s"), byte sizes ("50MiB") and
//! regular expressions, each serialised back as the user wrote it.

use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

/// A duration written as a number and a unit: `500ms`, `30s`, `5m`, `2h`, `1d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub fn parse(text: &str) -> Result<HumanDuration, String> {
        let (number, unit) = split_number(text)?;
        let millis = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => {
                return Err(format!(
                    "\"{text}\" has no unit; write for example \"{text}s\""
                ))
            }
            other => {
                return Err(format!(
                    "unknown duration unit \"{other}\"; use ms, s, m, h or d"
                ))
            }
        };
        let ms = number
            .checked_mul(millis)
            .ok_or_else(|| format!("\"{text}\" is too long a duration"))?;
        Ok(HumanDuration(Duration::from_millis(ms)))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let units = [
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1_000, "s"),
        ];
        for (size, unit) in units {
            if ms >= size && ms % size == 0 {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for HumanDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]+(ms|s|m|h|d)$",
            "description": "A duration such as \"500ms\", \"30s\", \"5m\", \"2h\" or \"1d\"."
        })
    }
}

/// A size in bytes written with a unit: `512B`, `64KiB`, `50MiB`, `1GiB` (or kB/MB/GB, powers
/// of 1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub fn parse(text: &str) -> Result<ByteSize, String> {
        let (number, unit) = split_number(text)?;
        let factor: u64 = match unit {
            "B" => 1,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            "kB" | "KB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            "" => {
                return Err(format!(
                    "\"{text}\" has no unit; write for example \"{text}MiB\""
                ))
            }
            other => {
                return Err(format!(
                    "unknown size unit \"{other}\"; use B, KiB, MiB, GiB, kB, MB or GB"
                ))
            }
        };
        number
            .checked_mul(factor)
            .map(ByteSize)
            .ok_or_else(|| format!("\"{text}\" is too large"))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (size, unit) in [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] {
            if self.0 >= size && self.0 % size == 0 {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for ByteSize {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteSize".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]+(B|KiB|MiB|GiB|kB|KB|MB|GB)$",
            "description": "A size such as \"64KiB\", \"50MiB\" or \"1GiB\"."
        })
    }
}

fn split_number(text: &str) -> Result<(u64, &str), String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if digits == 0 {
        return Err(format!("\"{text}\" does not start with a whole number"));
    }
    let number = text[..digits]
        .parse::<u64>()
        .map_err(|_| format!("\"{text}\" is too large a number"))?;
    Ok((number, text[digits..].trim()))
}

/// A regular expression, checked when the file is read, serialised as its pattern. Patterns
/// are matched as a [`PatternSet`].
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
}

impl Pattern {
    /// Checks `source`; the error carries the byte offset of the problem in the pattern.
    pub fn new(source: &str) -> Result<Pattern, (usize, String)> {
        let ast = regex_syntax::ast::parse::Parser::new()
            .parse(source)
            .map_err(|e| (e.span().start.offset, e.kind().to_string()))?;
        regex_syntax::hir::translate::Translator::new()
            .translate(source, &ast)
            .map_err(|e| (e.span().start.offset, e.kind().to_string()))?;
        Ok(Pattern {
            source: source.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// Room for the automaton of a set: thousands of patterns match in milliseconds with it,
/// but in seconds with the regex crate's default (its lazy DFA keeps rebuilding).
const SET_MEMORY: usize = 64 << 20;

/// A list of regular expressions compiled into one automaton when the file is read: a name
/// matches the set when it matches any of its patterns. Serialised as the list of patterns.
#[derive(Clone)]
pub struct PatternSet {
    patterns: Vec<Pattern>,
    set: regex::RegexSet,
}

impl PatternSet {
    /// Compiles `patterns`; the error names the first pattern that cannot be compiled (by its
    /// index) and why, or says the set as a whole is too large (no index).
    pub fn new(patterns: Vec<Pattern>) -> Result<PatternSet, (Option<usize>, String)> {
        let build = |sources: &[&str]| {
            regex::RegexSetBuilder::new(sources)
                .size_limit(SET_MEMORY)
                .dfa_size_limit(SET_MEMORY)
                .build()
        };
        let sources: Vec<&str> = patterns.iter().map(Pattern::as_str).collect();
        match build(&sources) {
            Ok(set) => Ok(PatternSet { patterns, set }),
            Err(e) => Err(sources
                .iter()
                .enumerate()
                .find_map(|(i, p)| build(&[p]).err().map(|e| (Some(i), e.to_string())))
                .unwrap_or((None, e.to_string()))),
        }
    }

    /// The set of one pattern that matches every name.
    pub fn match_all() -> PatternSet {
        let all = Pattern {
            source: ".*".to_string(),
        };
        PatternSet::new(vec![all]).unwrap_or_else(|_| PatternSet::default())
    }

    pub fn is_match(&self, name: &str) -> bool {
        self.set.is_match(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Pattern> {
        self.patterns.iter()
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// The empty set: it matches nothing.
impl Default for PatternSet {
    fn default() -> Self {
        PatternSet {
            patterns: Vec::new(),
            set: regex::RegexSet::empty(),
        }
    }
}

impl fmt::Debug for PatternSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.patterns.iter().map(Pattern::as_str))
            .finish()
    }
}

impl PartialEq for PatternSet {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

impl Serialize for PatternSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.patterns.serialize(s)
    }
}

impl schemars::JsonSchema for PatternSet {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RegexList".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <Vec<Pattern>>::json_schema(generator)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl schemars::JsonSchema for Pattern {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Regex".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "regex",
            "description": "A regular expression (Rust `regex` syntax), matched anywhere in the name unless anchored with ^ and $."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_back() {
        for (text, ms) in [
            ("500ms", 500),
            ("30s", 30_000),
            ("5m", 300_000),
            ("2h", 7_200_000),
            ("1d", 86_400_000),
        ] {
            let d = HumanDuration::parse(text).unwrap();
            assert_eq!(d.0, Duration::from_millis(ms));
            assert_eq!(d.to_string(), text);
        }
        assert!(HumanDuration::parse("30").unwrap_err().contains("no unit"));
        assert!(HumanDuration::parse("5y")
            .unwrap_err()
            .contains("unknown duration unit"));
        assert!(HumanDuration::parse("s").is_err());
        assert!(HumanDuration::parse("99999999999999999999s").is_err());
    }

    #[test]
    fn sizes_parse_and_print_back() {
        assert_eq!(ByteSize::parse("50MiB").unwrap(), ByteSize(50 << 20));
        assert_eq!(ByteSize::parse("1GiB").unwrap().to_string(), "1GiB");
        assert_eq!(ByteSize::parse("10MB").unwrap(), ByteSize(10_000_000));
        assert_eq!(ByteSize::parse("512B").unwrap().to_string(), "512B");
        assert!(ByteSize::parse("50").unwrap_err().contains("no unit"));
        assert!(ByteSize::parse("5XB").is_err());
    }

    fn set(patterns: &[&str]) -> Result<PatternSet, (Option<usize>, String)> {
        PatternSet::new(patterns.iter().map(|p| Pattern::new(p).unwrap()).collect())
    }

    #[test]
    fn a_pattern_set_matches_any_of_its_patterns() {
        let s = set(&["^orders\\.", "payments$"]).unwrap();
        assert!(s.is_match("orders.eu") && s.is_match("eu-payments"));
        assert!(!s.is_match("ordersXeu") && !s.is_match("payments-eu"));
        assert!(!PatternSet::default().is_match(""));
        assert!(PatternSet::match_all().is_match("anything"));
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"["^orders\\.","payments$"]"#
        );
    }

    #[test]
    fn a_pattern_too_large_to_compile_is_named() {
        let (index, why) = set(&["ok", "\\w{1000}{1000}"]).unwrap_err();
        assert_eq!(index, Some(1));
        assert!(why.contains("size limit"), "{why}");
    }
}
