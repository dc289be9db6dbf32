//! Evaluating HCL expressions of the migration file into plain values: literals, lists,
//! objects, `var.NAME`, `env("NAME")`, `file("path")` and `"${…}"` string templates. Anything
//! else (conditionals, operators, for-expressions) is refused with its position.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use hcl::edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl::edit::template::Element;
use hcl::edit::Span;

use super::error::{did_you_mean, ConfigError, SourceFile};

/// A value with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: Kind,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    /// Keys with their spans, in file order.
    Map(Vec<(String, Range<usize>, Value)>),
}

impl Kind {
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool(_) => "a bool",
            Kind::Number(_) => "a number",
            Kind::String(_) => "a string",
            Kind::List(_) => "a list",
            Kind::Map(_) => "an object",
        }
    }
}

/// What expressions can refer to.
pub struct Scope<'a> {
    pub file: &'a SourceFile,
    /// The folder `file()` paths are relative to.
    pub base_dir: PathBuf,
    pub vars: BTreeMap<String, Value>,
    /// Declared variables with no default and no `--var` value.
    pub unset: std::collections::BTreeSet<String>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The variable whose default is being read, while defaults are read (they cannot refer
    /// to variables).
    pub default_of: std::cell::RefCell<Option<String>>,
}

/// The largest file `file()` reads.
const MAX_FILE: u64 = super::files::MAX_SMALL_FILE;

pub fn span_of(expr: &impl Span) -> Range<usize> {
    expr.span().unwrap_or(0..0)
}

impl Scope<'_> {
    pub fn eval(&self, expr: &Expression) -> Result<Value, ConfigError> {
        let span = span_of(expr);
        let kind = match expr {
            Expression::Null(_) => Kind::Null,
            Expression::Bool(b) => Kind::Bool(*b.value()),
            Expression::Number(n) => Kind::Number(n.value().as_f64().unwrap_or(f64::NAN)),
            Expression::String(s) => Kind::String(s.value().clone()),
            Expression::Array(items) => Kind::List(
                items
                    .iter()
                    .map(|e| self.eval(e))
                    .collect::<Result<_, _>>()?,
            ),
            Expression::Object(object) => {
                let mut entries = Vec::new();
                for (key, value) in object.iter() {
                    let (name, key_span) = match key {
                        ObjectKey::Ident(ident) => {
                            (ident.value().as_str().to_string(), span_of(ident))
                        }
                        ObjectKey::Expression(e) => match self.eval(e)? {
                            Value {
                                kind: Kind::String(s),
                                span,
                            } => (s, span),
                            other => {
                                return Err(self.file.error(
                                    other.span,
                                    "not a string",
                                    format!(
                                        "an object key must be a string, not {}",
                                        other.kind.type_name()
                                    ),
                                    Some("write the key in quotes: { \"key\" = \"value\" }".into()),
                                ))
                            }
                        },
                    };
                    entries.push((name, key_span, self.eval(value.expr())?));
                }
                Kind::Map(entries)
            }
            Expression::StringTemplate(template) => {
                let mut text = String::new();
                for element in template.iter() {
                    match element {
                        Element::Literal(literal) => text.push_str(literal.value()),
                        Element::Interpolation(interpolation) => {
                            let value = self.eval(&interpolation.expr)?;
                            match value.kind {
                                Kind::String(s) => text.push_str(&s),
                                Kind::Number(n) => text.push_str(&format_number(n)),
                                Kind::Bool(b) => text.push_str(&b.to_string()),
                                other => {
                                    return Err(self.file.error(
                                        value.span,
                                        "cannot be put in a string",
                                        format!(
                                            "{} cannot be interpolated into a string",
                                            other.type_name()
                                        ),
                                        Some(
                                            "only strings, numbers and bools fit in \"${…}\""
                                                .into(),
                                        ),
                                    ))
                                }
                            }
                        }
                        Element::Directive(_) => {
                            return Err(self.unsupported(span, "template directives (%{ … })"));
                        }
                    }
                }
                Kind::String(text)
            }
            Expression::Parenthesis(inner) => return self.eval(inner.inner()),
            Expression::Traversal(traversal) => return self.variable(traversal, span),
            Expression::FuncCall(call) => return self.call(call, span),
            Expression::Variable(v) => {
                return Err(self.file.error(
                    span,
                    "unknown name",
                    format!("`{}` is not a value here", v.value().as_str()),
                    Some("write strings in quotes; refer to variables as var.NAME".into()),
                ))
            }
            Expression::HeredocTemplate(_) => return Err(self.unsupported(span, "heredoc strings")),
            Expression::Conditional(_) => {
                return Err(self.unsupported(span, "conditional expressions"))
            }
            Expression::UnaryOp(_) | Expression::BinaryOp(_) => {
                return Err(self.unsupported(span, "operators"))
            }
            Expression::ForExpr(_) => return Err(self.unsupported(span, "for expressions")),
        };
        Ok(Value { kind, span })
    }

    fn unsupported(&self, span: Range<usize>, what: &str) -> ConfigError {
        self.file.error(
            span,
            "not supported",
            format!("{what} are not supported in a migration file"),
            Some("use literal values, var.NAME, env(\"NAME\") or file(\"path\")".into()),
        )
    }

    fn variable(
        &self,
        traversal: &hcl::edit::expr::Traversal,
        span: Range<usize>,
    ) -> Result<Value, ConfigError> {
        let root = match &traversal.expr {
            Expression::Variable(v) => v.value().as_str(),
            _ => "",
        };
        let name = match traversal.operators.as_slice() {
            [op] => match op.value() {
                TraversalOperator::GetAttr(ident) => Some(ident.value().as_str()),
                _ => None,
            },
            _ => None,
        };
        match (root, name) {
            ("var", Some(name)) => match self.vars.get(name) {
                Some(value) => Ok(Value {
                    kind: value.kind.clone(),
                    span,
                }),
                None if self.default_of.borrow().is_some() => {
                    let of = self.default_of.borrow().clone().unwrap_or_default();
                    let message = if of == name {
                        format!("variable `{name}` refers to itself in its default")
                    } else {
                        format!("the default of variable `{of}` refers to variable `{name}`")
                    };
                    Err(self.file.error(
                        span,
                        "refers to a variable",
                        message,
                        Some("a default is a value of its own: write it out, or pass --var NAME=VALUE".into()),
                    ))
                }
                None if self.unset.contains(name) => Err(self.file.error(
                    span,
                    "has no value",
                    format!("variable `{name}` has no value"),
                    Some(format!("give it a default, or pass --var {name}=VALUE")),
                )),
                None => {
                    let known: Vec<&str> = self.vars.keys().map(String::as_str).collect();
                    Err(self.file.error(
                        span,
                        "undeclared variable",
                        format!("variable `{name}` is not declared"),
                        did_you_mean(name, &known).or(Some(format!(
                            "declare it: variable \"{name}\" {{ default = … }}"
                        ))),
                    ))
                }
            },
            _ => Err(self.unsupported(span, "references other than var.NAME")),
        }
    }

    fn call(
        &self,
        call: &hcl::edit::expr::FuncCall,
        span: Range<usize>,
    ) -> Result<Value, ConfigError> {
        let name = call.name.name.value().as_str();
        let args: Vec<Value> = call
            .args
            .iter()
            .map(|a| self.eval(a))
            .collect::<Result<_, _>>()?;
        let single_string = |what: &str| -> Result<(String, Range<usize>), ConfigError> {
            match args.as_slice() {
                [Value {
                    kind: Kind::String(s),
                    span,
                }] => Ok((s.clone(), span.clone())),
                _ => Err(self.file.error(
                    span.clone(),
                    "one string argument",
                    format!("{name}() takes one string: {what}"),
                    Some(format!("write {name}(\"…\")")),
                )),
            }
        };
        match name {
            "env" => {
                let (var, arg_span) = single_string("the name of an environment variable")?;
                match (self.env)(&var) {
                    Some(value) => {
                        self.file.secret(&value);
                        Ok(Value {
                            kind: Kind::String(value),
                            span,
                        })
                    }
                    None => Err(self.file.error(
                        arg_span,
                        "not set",
                        format!("environment variable {var} is not set"),
                        Some(format!("export {var}=… before running kafka-migrate")),
                    )),
                }
            }
            "file" => {
                let (path, arg_span) = single_string("a path, relative to the migration file")?;
                let full = resolve(&self.base_dir, &path);
                let text = read_file(&full).map_err(|why| {
                    self.file.error(
                        arg_span,
                        "cannot be read",
                        format!("file({}): {} {why}", self.file.quote(&path), full.display()),
                        Some(
                            "file() reads a regular text file of up to 1 MiB; paths are relative to the migration file"
                                .into(),
                        ),
                    )
                })?;
                let text = text.trim_end_matches(['\n', '\r']).to_string();
                self.file.secret(&text);
                Ok(Value {
                    kind: Kind::String(text),
                    span,
                })
            }
            other => Err(self.file.error(
                span_of(&call.name.name),
                "unknown function",
                format!("unknown function `{other}`"),
                did_you_mean(other, &["env", "file"]).or(Some(
                    "the functions are env(\"NAME\") and file(\"path\")".into(),
                )),
            )),
        }
    }
}

/// The text of the regular file `path`, up to [`MAX_FILE`] bytes (`super::files`).
fn read_file(path: &Path) -> Result<String, String> {
    super::files::read_text(path, MAX_FILE).map_err(|e| e.why)
}

/// `path` relative to `base` unless absolute.
pub fn resolve(base: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}
