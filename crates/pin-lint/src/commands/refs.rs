//! `pin-lint refs`: the inventory of every image reference.

use anyhow::Result;

use crate::args::{Format, RefsArgs};
use crate::{analyze, exit, print_out, render, walk};

/// Run `refs`.
pub fn run(args: &RefsArgs) -> Result<u8> {
    let inputs = walk::collect(&args.paths)?;
    let reports = analyze(&inputs, |_| Vec::new())?;
    let rendered = match args.format {
        Format::Human => render::human::references(&reports),
        Format::Json => format!("{:#}\n", render::json::references(&reports)),
    };
    print_out(&rendered)?;
    Ok(exit::CLEAN)
}
