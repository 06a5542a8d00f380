//! `pin-lint refs`: the inventory of every image reference; with `--expand`, also the images
//! each job of each pipeline entry point can run in, after template expansion.

use anyhow::Result;

use crate::args::{Format, RefsArgs};
use crate::{analyze, exit, print_out, render, templates, walk};

/// Run `refs`.
pub fn run(args: &RefsArgs) -> Result<u8> {
    let inputs = walk::collect(&args.paths)?;
    let reports = analyze(&inputs, |_| Vec::new())?;
    // The inventory lists what is written in each file; expansion only adds its own section.
    let layer = args.expand.then(|| templates::inventory(&reports));
    let rendered = match args.format {
        Format::Human => {
            let mut out = render::human::references(&reports);
            if let Some(layer) = &layer {
                out.push_str(&templates::human(layer));
            }
            out
        }
        Format::Json => {
            let mut value = render::json::references(&reports);
            if let Some(layer) = &layer {
                let (expanded, not_followed) = templates::json(layer);
                value["expanded"] = expanded;
                value["not_followed"] = not_followed;
            }
            format!("{value:#}\n")
        }
    };
    print_out(&rendered)?;
    Ok(exit::CLEAN)
}
