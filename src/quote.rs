//! Text the tool does not control — a cluster's topic, group, user and principal names, client
//! ids and hosts, config values, a REST answer — made safe for the place it is written: an HCL
//! string or comment, a Java properties key or value, JSON, a Terraform name, the terminal.
//! Every writer of such text goes through here, so that a name never becomes code, a line of
//! its own or a terminal escape wherever it lands.
//!
//! Pure functions of text; no I/O. Each output reads back, with its format's own parser, as
//! the text that went in (the tests parse it back).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

/// Characters a terminal acts on or that change how text around them reads: C0 and C1
/// control characters, DEL, the Unicode line and paragraph separators, bidirectional
/// overrides and isolates, zero-width characters and the byte-order mark.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// `text` for the terminal and for one line of any text output: each [unsafe](is_unsafe)
/// character, line breaks and tabs included, shown as an escape (`\n`, `\t`, `\r`,
/// `\u{1b}`). Everything else, backslashes included, as it is.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whole output for a terminal (what a command prints, an error report): its lines and tabs
/// kept, every other [unsafe](is_unsafe) character shown as [`terminal`] shows it. With
/// `colour`, the tool's own colour codes (SGR sequences, `ESC [ digits m`) are kept; every
/// other escape sequence (cursor moves, titles, hyperlinks, the clipboard) is shown, never
/// acted on. The last guard: names are also shown through [`terminal`] where they are
/// written, which keeps their line breaks and colour codes from the output too.
pub fn output(text: &str, colour: bool) -> Cow<'_, str> {
    let kept = |c: char| c == '\n' || c == '\t' || (colour && c == '\u{1b}');
    if !text.chars().any(|c| is_unsafe(c) && !kept(c)) && (!colour || !text.contains('\u{1b}')) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}' && colour {
            if let Some(len) = sgr_len(rest) {
                out.push_str(&rest[..len]);
                rest = &rest[len..];
                continue;
            }
        }
        match c {
            '\n' | '\t' => out.push(c),
            c if is_unsafe(c) => out.push_str(&terminal(c.encode_utf8(&mut [0; 4]))),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// The length of the SGR sequence (`ESC [` digits and `;` `m`) `text` starts with, if any.
fn sgr_len(text: &str) -> Option<usize> {
    let params = text.strip_prefix("\u{1b}[")?;
    let digits = params
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (params.as_bytes().get(digits) == Some(&b'm')).then_some(2 + digits + 1)
}

/// `text` as an HCL (and Terraform) quoted string literal: `"` and `\` escaped, control
/// characters as `\n`, `\r`, `\t` or `\uNNNN`, and `${` and `%{` doubled so that they are
/// not template sequences. Reads back as exactly `text`.
pub fn hcl_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` for the inside of a `#` comment line (HCL, Terraform, properties): one line,
/// whatever it holds ([`terminal`]'s escapes).
pub fn comment(text: &str) -> Cow<'_, str> {
    terminal(text)
}

/// A Java properties value as `Properties.load` reads it back: backslashes doubled, line
/// breaks and other control characters, and anything beyond ASCII (the file is read as
/// ISO-8859-1) as escapes, a leading space kept. A value can never start a line of its own.
pub fn properties_value(text: &str) -> String {
    properties(text, false)
}

/// A Java properties key: as [`properties_value`], and `=`, `:`, `#`, `!` and spaces escaped
/// so that the key cannot end early.
pub fn properties_key(text: &str) -> String {
    properties(text, true)
}

fn properties(text: &str, key: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '=' | ':' | '#' | '!' | ' ' if key => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == 0 => out.push_str("\\ "),
            c if c.is_control() || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04X}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A Terraform (HCL) identifier for `text`: letters, digits, `_` and `-` kept, anything else
/// `_`, and `_` in front when it would start with neither a letter nor `_`. Different texts may
/// share one: a caller that names several things checks with [`Names`].
pub fn identifier(text: &str) -> String {
    let mut name: String = text
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' => c,
            _ => '_',
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    name
}

/// Identifiers for several texts, each distinct: the first text to take an identifier keeps
/// it; a later one whose identifier is taken gets `_2`, `_3`, … — stable for the same texts in
/// the same order.
#[derive(Debug, Default)]
pub struct Names {
    taken: std::collections::BTreeSet<String>,
}

impl Names {
    /// The identifier for `text`, distinct from every one given before.
    pub fn identifier(&mut self, text: &str) -> String {
        let base = identifier(text);
        let mut name = base.clone();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        name
    }
}

/// `value` as pretty JSON (two-space indent) whose strings hold no [unsafe](is_unsafe)
/// character raw: serde escapes C0 controls, this DEL, C1 controls and the rest as `\uNNNN`
/// too, so that JSON printed on a terminal is as safe as text. Parses back to the same value.
pub fn json_pretty(value: &impl serde::Serialize) -> serde_json::Result<String> {
    json_with(value, serde_json::ser::PrettyFormatter::new())
}

/// [`json_pretty`] on one line.
pub fn json_line(value: &impl serde::Serialize) -> serde_json::Result<String> {
    json_with(value, serde_json::ser::CompactFormatter)
}

fn json_with(
    value: &impl serde::Serialize,
    formatter: impl serde_json::ser::Formatter,
) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SafeStrings(formatter));
    value.serialize(&mut ser)?;
    String::from_utf8(out).map_err(|e| serde_json::Error::io(io::Error::other(e)))
}

/// A JSON formatter that escapes [unsafe](is_unsafe) characters in strings on top of `F`.
struct SafeStrings<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeStrings<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if is_unsafe(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names a cluster accepts that try every trick: line breaks, quotes, template sequences,
    /// comment and assignment characters, backslashes, terminal escapes, bidi overrides and
    /// non-ASCII.
    pub(crate) const HOSTILE: [&str; 10] = [
        "a\nfailback { enabled = true }\n# ",
        "quote\"d",
        "${var.x}%{if true}y%{endif}",
        "#hash=eq:colon!bang",
        "back\\slash\\n\\",
        "\u{1b}]0;title\u{7}\u{1b}[2J\u{1b}[31mred",
        "bidi\u{202e}txt.exe\u{2028}sep",
        "caf\u{e9} \u{1d11e} \u{4e2d}",
        " leading space",
        "del\u{7f}c1\u{9b}31m",
    ];

    #[test]
    fn terminal_text_holds_no_control_character() {
        for name in HOSTILE {
            let shown = terminal(name);
            assert!(!shown.chars().any(is_unsafe), "{shown:?}");
        }
        assert_eq!(terminal("plain ^orders\\."), "plain ^orders\\.");
        assert!(matches!(terminal("plain"), Cow::Borrowed(_)));
        assert_eq!(terminal("a\nb\u{1b}[2J"), "a\\nb\\u{1b}[2J");
    }

    #[test]
    fn output_keeps_its_lines_and_only_colour() {
        let text = "line \u{1b}[1m\u{1b}[31mbold red\u{1b}[0m\n\tnext \u{1b}]8;;http://x\u{7}link\r\u{9b}2J";
        let plain = output(text, false);
        assert!(
            !plain
                .chars()
                .any(|c| is_unsafe(c) && c != '\n' && c != '\t'),
            "{plain:?}"
        );
        assert_eq!(plain.lines().count(), 2);
        let coloured = output(text, true);
        assert!(
            coloured.contains("\u{1b}[1m\u{1b}[31mbold red\u{1b}[0m"),
            "{coloured:?}"
        );
        assert!(
            coloured.contains("\\u{1b}]8;;http://x\\u{7}link\\r\\u{9b}2J"),
            "{coloured:?}"
        );
        assert!(matches!(output("a\n\tb", false), Cow::Borrowed(_)));
    }

    #[test]
    fn hcl_strings_read_back_as_they_were() {
        for name in HOSTILE {
            let text = format!("a = {}\n", hcl_string(name));
            let body: hcl::Body = hcl::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let attr = body.attributes().next().expect("one attribute");
            assert_eq!(attr.key(), "a");
            match attr.expr() {
                hcl::Expression::String(s) => assert_eq!(s, name, "{text}"),
                other => panic!("{text}: not a plain string: {other:?}"),
            }
            assert_eq!(text.lines().count(), 1, "{text}");
        }
    }

    #[test]
    fn comments_stay_on_their_line() {
        for name in HOSTILE {
            let text = format!("# {}\na = 1\n", comment(name));
            let body: hcl::Body = hcl::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(body.attributes().count(), 1, "{text}");
            assert_eq!(body.blocks().count(), 0, "{text}");
        }
    }

    /// Java's `Properties.load`, for what this module writes: escapes undone, one key and
    /// value a line.
    fn load_properties(text: &str) -> Vec<(String, String)> {
        fn unescape(s: &str) -> String {
            let mut out = String::new();
            let mut units: Vec<u16> = Vec::new();
            let mut chars = s.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push_str(&String::from_utf16(&units).unwrap());
                    units.clear();
                    out.push(c);
                    continue;
                }
                let escaped = chars.next().unwrap();
                if escaped == 'u' {
                    let hex: String = chars.by_ref().take(4).collect();
                    units.push(u16::from_str_radix(&hex, 16).unwrap());
                    continue;
                }
                out.push_str(&String::from_utf16(&units).unwrap());
                units.clear();
                match escaped {
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'f' => out.push('\u{c}'),
                    other => out.push(other),
                }
            }
            out.push_str(&String::from_utf16(&units).unwrap());
            out
        }
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let mut escaped = false;
                let at = l
                    .char_indices()
                    .find(|(_, c)| {
                        let end = !escaped && (*c == '=' || *c == ':');
                        escaped = !escaped && *c == '\\';
                        end
                    })
                    .map(|(i, _)| i)
                    .expect("a separator");
                (unescape(&l[..at]), unescape(&l[at + 1..]))
            })
            .collect()
    }

    #[test]
    fn properties_read_back_as_they_were() {
        let text: String = HOSTILE
            .iter()
            .map(|n| {
                format!(
                    "# {}\n{}={}\n",
                    comment(n),
                    properties_key(n),
                    properties_value(n)
                )
            })
            .collect();
        let read = load_properties(&text);
        assert_eq!(read.len(), HOSTILE.len(), "{text}");
        for ((k, v), name) in read.iter().zip(HOSTILE) {
            assert_eq!((k.as_str(), v.as_str()), (name, name));
        }
        assert_eq!(properties_value(" lead"), "\\ lead");
        assert_eq!(properties_value("é𝄞"), "\\u00E9\\uD834\\uDD1E");
        assert_eq!(properties_value("${env:X}"), "${env:X}");
        assert_eq!(properties_key("a:b c"), "a\\:b\\ c");
    }

    #[test]
    fn identifiers_are_distinct() {
        let mut names = Names::default();
        let given: Vec<String> = ["a.b", "a_b", "a-b", "a b", "a.b", "9"]
            .iter()
            .map(|t| names.identifier(t))
            .collect();
        assert_eq!(given, ["a_b", "a_b_2", "a-b", "a_b_3", "a_b_4", "_9"]);
    }

    #[test]
    fn json_holds_no_raw_control_and_reads_back() {
        let value = serde_json::json!({ "names": HOSTILE, "n": 1 });
        for text in [json_pretty(&value).unwrap(), json_line(&value).unwrap()] {
            assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'), "{text}");
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, value);
        }
        let plain = serde_json::json!({ "names": ["x", "y"], "n": { "m": [] } });
        assert_eq!(
            json_pretty(&plain).unwrap(),
            serde_json::to_string_pretty(&plain).unwrap()
        );
        assert_eq!(json_line(&plain).unwrap(), plain.to_string());
    }
}
