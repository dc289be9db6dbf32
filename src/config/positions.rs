//! Source positions as applications keep them outside Kafka, parsed: `topic:partition:offset`
//! on the command line, Spark Structured Streaming's offsets JSON
//! (`{"orders":{"0":42,"1":17}}`, as in its checkpoints and `startingOffsets`) and CSV
//! (`topic,partition,offset`, a header line allowed). Spark's symbolic offsets `-2`
//! (earliest) and `-1` (latest) are kept as they are: they mean the same on any cluster.
//! Parses text only; reading the file is [`super::files`]'.

use std::collections::BTreeMap;

use serde::Serialize;

/// One partition's position on the source: the next offset its application reads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct SourcePosition {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl SourcePosition {
    /// Spark's `-2` (earliest) or `-1` (latest): not an offset, the same on any cluster.
    pub fn is_symbolic(&self) -> bool {
        matches!(self.offset, -1 | -2)
    }
}

/// The forms positions come in (and can be printed back in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `{"topic":{"partition":offset}}`.
    Spark,
    /// `topic,partition,offset` lines.
    Csv,
}

/// Which form `text` (from a file named `name`) is in: JSON when it starts with `{`, else
/// CSV.
pub fn form_of(text: &str) -> Form {
    if text.trim_start().starts_with('{') {
        Form::Spark
    } else {
        Form::Csv
    }
}

/// Parses `topic:partition:offset` (topic names hold no `:`).
pub fn parse_position(text: &str) -> Result<SourcePosition, String> {
    let mut parts = text.rsplitn(3, ':');
    let (Some(offset), Some(partition), Some(topic)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "\"{}\" is not TOPIC:PARTITION:OFFSET",
            crate::quote::terminal(text)
        ));
    };
    position(topic, partition, offset)
}

/// Parses positions in either form (see [`form_of`]).
pub fn parse(text: &str) -> Result<Vec<SourcePosition>, String> {
    match form_of(text) {
        Form::Spark => parse_spark(text),
        Form::Csv => parse_csv(text),
    }
}

/// Parses Spark's offsets JSON: topic → partition (a string) → offset.
pub fn parse_spark(text: &str) -> Result<Vec<SourcePosition>, String> {
    let topics: BTreeMap<String, BTreeMap<String, serde_json::Value>> = serde_json::from_str(text)
        .map_err(|e| {
            format!("not Spark offsets JSON ({{\"topic\":{{\"partition\":offset}}}}): {e}")
        })?;
    let mut out = Vec::new();
    for (topic, partitions) in &topics {
        for (partition, offset) in partitions {
            let offset = offset.as_i64().map(|o| o.to_string()).ok_or_else(|| {
                format!(
                    "{} partition {partition}: the offset {offset} is not a whole number",
                    crate::quote::terminal(topic)
                )
            })?;
            out.push(position(topic, partition, &offset)?);
        }
    }
    Ok(out)
}

/// Parses `topic,partition,offset` lines; blank lines, `#` comments and a first line naming
/// the columns are skipped.
pub fn parse_csv(text: &str) -> Result<Vec<SourcePosition>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if out.is_empty() && fields.get(1).is_some_and(|p| p.parse::<i32>().is_err()) {
            // The header.
            continue;
        }
        let [topic, partition, offset] = fields[..] else {
            return Err(format!(
                "line {}: expected topic,partition,offset, found {} field(s)",
                n + 1,
                fields.len()
            ));
        };
        out.push(position(topic, partition, offset).map_err(|e| format!("line {}: {e}", n + 1))?);
    }
    Ok(out)
}

fn position(topic: &str, partition: &str, offset: &str) -> Result<SourcePosition, String> {
    let shown = crate::quote::terminal(topic);
    if topic.is_empty() {
        return Err("a position without a topic".into());
    }
    let partition: i32 = partition.parse().ok().filter(|p| *p >= 0).ok_or_else(|| {
        format!(
            "{shown}: \"{}\" is not a partition number",
            crate::quote::terminal(partition)
        )
    })?;
    let offset: i64 = offset
        .parse()
        .ok()
        .filter(|o| *o >= -2)
        .ok_or_else(|| {
            format!(
                "{shown} partition {partition}: \"{}\" is not an offset (a number ≥ 0, or Spark's -2 for earliest, -1 for latest)",
                crate::quote::terminal(offset)
            )
        })?;
    Ok(SourcePosition {
        topic: topic.to_string(),
        partition,
        offset,
    })
}

/// Positions as Spark's offsets JSON (compact, as Spark writes it).
pub fn spark_json(positions: &[SourcePosition]) -> String {
    let mut topics: BTreeMap<&str, BTreeMap<String, i64>> = BTreeMap::new();
    for p in positions {
        topics
            .entry(p.topic.as_str())
            .or_default()
            .insert(p.partition.to_string(), p.offset);
    }
    serde_json::to_string(&topics).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(topic: &str, partition: i32, offset: i64) -> SourcePosition {
        SourcePosition {
            topic: topic.into(),
            partition,
            offset,
        }
    }

    #[test]
    fn positions_parse_from_flags() {
        assert_eq!(parse_position("orders.eu:3:42"), Ok(at("orders.eu", 3, 42)));
        assert_eq!(parse_position("orders:0:-2"), Ok(at("orders", 0, -2)));
        assert!(parse_position("orders:42")
            .unwrap_err()
            .contains("TOPIC:PARTITION:OFFSET"));
        assert!(parse_position("orders:x:1")
            .unwrap_err()
            .contains("partition number"));
        assert!(parse_position("orders:0:-3")
            .unwrap_err()
            .contains("not an offset"));
        assert!(parse_position(":0:1").is_err());
    }

    #[test]
    fn spark_offsets_parse_and_print_back() {
        let text = r#"{"orders":{"0":42,"1":17},"payments":{"0":-2}}"#;
        assert_eq!(form_of(text), Form::Spark);
        let parsed = parse(text).unwrap();
        assert_eq!(
            parsed,
            vec![
                at("orders", 0, 42),
                at("orders", 1, 17),
                at("payments", 0, -2)
            ]
        );
        assert!(parsed[2].is_symbolic() && !parsed[0].is_symbolic());
        assert_eq!(spark_json(&parsed), text);
        assert!(parse(r#"{"orders":{"0":"x"}}"#)
            .unwrap_err()
            .contains("not a whole number"));
        assert!(parse(r#"{"orders":[1]}"#)
            .unwrap_err()
            .contains("Spark offsets JSON"));
    }

    #[test]
    fn csv_parses_with_or_without_a_header() {
        let text = "topic,partition,offset\norders,0,42\n\n# a comment\n orders , 1 , 17 \n";
        assert_eq!(form_of(text), Form::Csv);
        assert_eq!(
            parse(text),
            Ok(vec![at("orders", 0, 42), at("orders", 1, 17)])
        );
        assert_eq!(parse("orders,0,42"), Ok(vec![at("orders", 0, 42)]));
        assert_eq!(
            parse("orders,0,42\norders,1").unwrap_err(),
            "line 2: expected topic,partition,offset, found 2 field(s)"
        );
        assert!(parse("orders,0,42\norders,x,1")
            .unwrap_err()
            .starts_with("line 2: orders: \"x\" is not a partition number"));
    }
}
