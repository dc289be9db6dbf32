//! The `cutover` command: runs the gated cutover, drawing it, and maps how it ended to an exit
//! code (0 cut over, 2 a gate did not pass, 1 an error).

use std::time::Duration;

use crate::config::Migration;
use crate::render::{self, CutoverDisplay, Paint};

use super::ExitStatus;

/// `cutover [--json] [--timeout D]`.
pub fn cutover(migration: &Migration, json: bool, timeout: Duration) -> miette::Result<ExitStatus> {
    let rt = super::commands::runtime()?;
    let paint = if json {
        Paint::plain()
    } else {
        Paint::for_stdout()
    };
    let mut display = CutoverDisplay::new(paint, json);
    let outcome = rt.block_on(crate::cutover::cutover(migration, timeout, &mut display))?;
    if json {
        println!("{}", render::cutover_json(&outcome));
    } else {
        print!("{}", render::cutover_text(&outcome, paint));
    }
    Ok(if outcome.cut_over {
        ExitStatus::Success
    } else {
        ExitStatus::Attention
    })
}
