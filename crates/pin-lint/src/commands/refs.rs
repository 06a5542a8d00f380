//! `pin-lint refs`: the inventory of every image reference; with `--expand`, also the images
//! each job of each pipeline entry point can run in, after template expansion.

use anyhow::Result;

use crate::args::{Format, RefsArgs};
use crate::{analyze, exit, gate, print_json, print_out, render, templates, walk};

/// Run `refs`.
pub fn run(args: &RefsArgs) -> Result<u8> {
    let mut configs = gate::Configs::discover(&args.paths)?;
    let inputs = walk::collect(&args.paths, &mut configs)?;
    let reports = analyze(&inputs, |_| Vec::new())?;
    // The inventory lists what is written in each file; expansion only adds its own section.
    let layer = args.expand.then(|| templates::inventory(&reports));
    match args.format {
        Format::Human => {
            let mut out = render::human::references(&reports);
            if let Some(layer) = &layer {
                out.push_str(&templates::human(layer));
            }
            print_out(&out)?;
        }
        Format::Json => print_json(&render::json::references(
            &reports,
            layer.as_ref().map(templates::json),
        ))?,
    }
    Ok(exit::CLEAN)
}
