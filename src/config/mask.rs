//! Masking secrets in the migration file's text before any of it is shown in a diagnostic:
//! the value of every attribute or object key whose name says secret (misspelt too, such as
//! `passwrd`), and the `default` of every `sensitive` variable. It reads the text alone, with
//! a small lexer, so that it holds for files that do not parse (an unterminated string, a
//! heredoc, a stray token). The masked text has the same bytes per line as the original: each
//! masked byte becomes `*`, so offsets, lines and columns stay where they were.

use std::ops::Range;

use super::secret::is_secret_name;

/// `text` with every secret value masked by `*` (newlines kept).
pub fn mask(text: &str) -> String {
    let ranges = Lexer::new(text).secret_ranges();
    let mut bytes = text.as_bytes().to_vec();
    for range in ranges {
        for b in &mut bytes[range] {
            if *b != b'\n' && *b != b'\r' {
                *b = b'*';
            }
        }
    }
    // Whole characters are replaced byte by byte, so the text is still UTF-8; a mask that
    // ended inside a character cannot happen (ranges end at ASCII tokens or the end).
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// An identifier or a quoted string: what a key can be. The text without quotes.
    Name(String),
    /// `=` (not `==`) or `:`.
    Assign,
    Open(u8),
    Close(u8),
    Newline,
    Comma,
    Other,
}

/// A `{ … }` being read: whether it is a variable block, and what it holds so far.
#[derive(Default)]
struct Frame {
    variable: bool,
    sensitive: bool,
    defaults: Vec<Range<usize>>,
}

struct Lexer<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            text: text.as_bytes(),
            at: 0,
        }
    }

    fn peek(&self, ahead: usize) -> u8 {
        self.text.get(self.at + ahead).copied().unwrap_or(0)
    }

    /// The next token and where it stands, or `None` at the end.
    fn next(&mut self) -> Option<(Token, Range<usize>)> {
        loop {
            let c = self.peek(0);
            if self.at >= self.text.len() {
                return None;
            }
            match c {
                b' ' | b'\t' | b'\r' => self.at += 1,
                b'#' => self.skip_line(),
                b'/' if self.peek(1) == b'/' => self.skip_line(),
                b'/' if self.peek(1) == b'*' => {
                    self.at += 2;
                    while self.at < self.text.len()
                        && !(self.peek(0) == b'*' && self.peek(1) == b'/')
                    {
                        self.at += 1;
                    }
                    self.at = (self.at + 2).min(self.text.len());
                }
                _ => break,
            }
        }
        let start = self.at;
        let c = self.peek(0);
        let token = match c {
            b'\n' => {
                self.at += 1;
                Token::Newline
            }
            b'"' => {
                self.string();
                let end = self.at.min(self.text.len());
                let inner = &self.text[start + 1..end.saturating_sub(1).max(start + 1)];
                Token::Name(String::from_utf8_lossy(inner).into_owned())
            }
            b'<' if self.peek(1) == b'<' => {
                self.heredoc();
                Token::Other
            }
            b'=' if matches!(self.peek(1), b'=' | b'>') => {
                self.at += 2;
                Token::Other
            }
            b'!' | b'<' | b'>' if self.peek(1) == b'=' => {
                self.at += 2;
                Token::Other
            }
            b'=' | b':' => {
                self.at += 1;
                Token::Assign
            }
            b'{' | b'[' | b'(' => {
                self.at += 1;
                Token::Open(c)
            }
            b'}' | b']' | b')' => {
                self.at += 1;
                Token::Close(c)
            }
            b',' => {
                self.at += 1;
                Token::Comma
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while self.at < self.text.len() {
                    let c = self.peek(0);
                    if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.') || c >= 0x80 {
                        self.at += 1;
                    } else {
                        break;
                    }
                }
                Token::Name(String::from_utf8_lossy(&self.text[start..self.at]).into_owned())
            }
            _ => {
                self.at += 1;
                Token::Other
            }
        };
        Some((token, start..self.at))
    }

    fn skip_line(&mut self) {
        while self.at < self.text.len() && self.peek(0) != b'\n' {
            self.at += 1;
        }
    }

    /// A quoted string from its opening quote, with `${ … }` and `%{ … }` inside (strings
    /// in them too, nested as deep as they go, without recursion); an unterminated string
    /// ends at the end of its line.
    fn string(&mut self) {
        // What the lexer is in, innermost last: a string, or an interpolation with the
        // depth of its braces.
        let mut stack: Vec<Option<usize>> = vec![None];
        self.at += 1;
        while self.at < self.text.len() {
            let c = self.peek(0);
            match stack.last_mut() {
                Some(None) => match c {
                    b'\\' => self.at += 2,
                    b'"' => {
                        self.at += 1;
                        stack.pop();
                        if stack.is_empty() {
                            return;
                        }
                    }
                    b'\n' => return,
                    b'$' | b'%' if self.peek(1) == b'{' => {
                        self.at += 2;
                        stack.push(Some(1));
                    }
                    _ => self.at += 1,
                },
                Some(Some(depth)) => {
                    self.at += 1;
                    match c {
                        b'"' => stack.push(None),
                        b'{' => *depth += 1,
                        b'}' => {
                            *depth -= 1;
                            if *depth == 0 {
                                stack.pop();
                            }
                        }
                        b'\n' => {
                            self.at -= 1;
                            return;
                        }
                        _ => {}
                    }
                }
                None => return,
            }
        }
        self.at = self.at.min(self.text.len());
    }

    /// `<<EOT` or `<<-EOT` up to and with its closing line (or the end of the text).
    fn heredoc(&mut self) {
        self.at += 2;
        if self.peek(0) == b'-' {
            self.at += 1;
        }
        let start = self.at;
        while self.at < self.text.len()
            && (self.peek(0).is_ascii_alphanumeric() || self.peek(0) == b'_')
        {
            self.at += 1;
        }
        let marker = self.text[start..self.at].to_vec();
        self.skip_line();
        if marker.is_empty() {
            return;
        }
        while self.at < self.text.len() {
            self.at += 1; // the newline
            let line_start = self.at;
            self.skip_line();
            let line = &self.text[line_start..self.at];
            if line.trim_ascii() == marker.as_slice() {
                return;
            }
        }
    }

    /// The value after `=`: up to a newline, comma or closing bracket outside any bracket of
    /// its own. Returns its range (empty when there is none).
    fn value(&mut self) -> Range<usize> {
        let mut depth = 0usize;
        let mut start = None;
        let mut end = self.at;
        loop {
            let before = self.at;
            let Some((token, range)) = self.next() else {
                break;
            };
            match token {
                Token::Newline | Token::Comma if depth == 0 => {
                    self.at = before;
                    break;
                }
                Token::Close(_) if depth == 0 => {
                    self.at = before;
                    break;
                }
                Token::Open(_) => depth += 1,
                Token::Close(_) => depth -= 1,
                _ => {}
            }
            start.get_or_insert(range.start);
            end = range.end;
        }
        start.unwrap_or(end)..end
    }

    /// Whether `range` is only a reference to a secret (`env("NAME")` or `file("path")`),
    /// which names where the secret is without being it.
    fn is_reference(&self, range: &Range<usize>) -> bool {
        let text = String::from_utf8_lossy(&self.text[range.clone()]);
        let text = text.trim();
        ["env", "file"].iter().any(|f| {
            text.strip_prefix(f)
                .map(str::trim_start)
                .and_then(|t| t.strip_prefix('('))
                .and_then(|t| t.strip_suffix(')'))
                .map(str::trim)
                .and_then(|t| t.strip_prefix('"'))
                .and_then(|t| t.strip_suffix('"'))
                .is_some_and(|arg| !arg.contains(['"', '\\', '$', '%']))
        })
    }

    /// Where the secret values of the text stand.
    fn secret_ranges(mut self) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut frames: Vec<Frame> = vec![Frame::default()];
        // The last two tokens on this statement, to see `variable "x" {` and `key =`.
        let mut previous: Vec<Token> = Vec::new();
        while let Some((token, range)) = self.next() {
            match &token {
                Token::Assign => {
                    let key = match previous.last() {
                        Some(Token::Name(key)) => Some(key.clone()),
                        _ => None,
                    };
                    let computed = !previous.is_empty() && key.is_none();
                    previous.clear();
                    // A key computed by an expression (`env("K") = …`) may be a secret's.
                    if computed {
                        let value = self.value();
                        if !self.is_reference(&value) {
                            out.push(value);
                        }
                        continue;
                    }
                    // Other values are read on: an object's keys are looked at in turn.
                    let Some(key) = key else { continue };
                    let frame = frames.last_mut().expect("the top frame stays");
                    if frame.variable && key == "sensitive" {
                        let value = self.value();
                        let text = String::from_utf8_lossy(&self.text[value]);
                        frame.sensitive |= text.trim() == "true";
                    } else if frame.variable && key == "default" {
                        let value = self.value();
                        frame.defaults.push(value);
                    } else if is_secret_name(&key) {
                        let value = self.value();
                        if !self.is_reference(&value) {
                            out.push(value);
                        }
                    }
                    continue;
                }
                Token::Open(b'{') => {
                    let variable = matches!(
                        previous.as_slice(),
                        [.., Token::Name(kw), Token::Name(_)] if kw == "variable"
                    );
                    frames.push(Frame {
                        variable,
                        ..Frame::default()
                    });
                    previous.clear();
                    continue;
                }
                Token::Close(b'}') => {
                    if frames.len() > 1 {
                        let frame = frames.pop().expect("more than one frame");
                        if frame.sensitive {
                            out.extend(frame.defaults);
                        }
                    }
                    previous.clear();
                    continue;
                }
                Token::Newline => {
                    previous.clear();
                    continue;
                }
                _ => {}
            }
            // A statement that starts with a secret-named word followed by anything but `=`,
            // `:` or `{` (a missing `=`): the rest of the line may be the secret.
            if let [Token::Name(key)] = previous.as_slice() {
                if is_secret_name(key) && !matches!(token, Token::Newline | Token::Open(b'{')) {
                    self.at = range.start;
                    self.skip_line();
                    out.push(range.start..self.at);
                    previous.clear();
                    continue;
                }
            }
            previous.push(token);
            if previous.len() > 2 {
                previous.remove(0);
            }
        }
        // A variable block never closed (a syntax error): its defaults are masked if it said
        // sensitive, or might have later.
        for frame in frames.into_iter().skip(1) {
            if frame.variable {
                out.extend(frame.defaults);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        let out = mask(text);
        assert_eq!(out.len(), text.len(), "same length");
        assert_eq!(
            out.matches('\n').count(),
            text.matches('\n').count(),
            "same lines"
        );
        out
    }

    #[test]
    fn secret_values_are_masked_wherever_they_stand() {
        for text in [
            "password = \"SECRET-MARKER\"",
            "  password  =  [\"SECRET-MARKER\", \"b\"]",
            "passwrd = \"SECRET-MARKER\"",
            "password = \"SECRET-MARKER",
            "password = \"${SECRET-MARKER}\"",
            "password = \"%{ if SECRET-MARKER }x%{ endif }\"",
            "password = nope(\"SECRET-MARKER\")",
            "password = <<EOT\nSECRET-MARKER\nEOT\nname = 1",
            "password \"SECRET-MARKER\"",
            "properties = { \"sasl.jaas.config\" = \"SECRET-MARKER\", \"client.rack\" = \"a\" }",
            "properties = {\n  \"ssl.key.pem\": \"SECRET-MARKER\"\n}",
            "variable \"p\" {\n  default = \"SECRET-MARKER\"\n  sensitive = true\n}",
            "variable \"p\" {\n  sensitive = true\n  default = [\"SECRET-MARKER\"]\n",
            "key_password = env(\"X\") + \"SECRET-MARKER\"",
            "  secret \"SECRET-MARKER\"",
            "a = 1\n  password \"SECRET-MARKER\"",
            "p = { env(\"K\") = \"SECRET-MARKER\" }",
        ] {
            let out = masked(text);
            assert!(!out.contains("SECRET-MARKER"), "{text:?} → {out:?}");
        }
    }

    #[test]
    fn what_is_not_secret_stays() {
        let text = "mechanism = env(\"SOURCE_SECRET\")\nname = \"orders\"\npassword = env(\"SOURCE_PASSWORD\")\nkey_password = file(\"k\")\nvariable \"v\" { default = \"kept\" }\nproperties = { \"client.rack\" = \"use1\" }\n";
        assert_eq!(masked(text), text);
        let out = masked("sasl {\n  password = \"hidden\"\n  username = \"shown\"\n}\n");
        assert!(
            out.contains("\"shown\"") && !out.contains("hidden"),
            "{out}"
        );
    }

    #[test]
    fn masking_keeps_non_ascii_text_valid() {
        let out = masked("password = \"é€𝄞\" # « ok »\n");
        assert!(out.contains("« ok »") && !out.contains('é'), "{out}");
    }
}
