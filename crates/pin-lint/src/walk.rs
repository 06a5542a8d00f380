//! Finding the files to analyze: folders are walked (gitignore-aware, hidden folders such as
//! `.github` included, `.git` skipped); files named explicitly are always read. A file that
//! `[files]` in its `pin-lint.toml` gives a type is picked whatever its name, and keeps that
//! type.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use pin_core::dialect::Dialect;

/// A file to analyze, with the path to show (as given on the command line joined with the
/// path below it, without a leading `./`, with forward slashes).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// Path shown in output.
    pub display: String,
    /// Path on disk.
    pub path: PathBuf,
    /// The type `[files]` in the governing `pin-lint.toml` gives the file, if any.
    pub file_type: Option<Dialect>,
}

/// Expand the command-line paths into files. A path that does not exist is an error (exit 2).
/// `file_type` tells the type `[files]` gives a file (`Config::file_type` of the file's
/// configuration); an error there (an invalid `pin-lint.toml`) stops the walk.
pub fn collect(
    paths: &[PathBuf],
    mut file_type: impl FnMut(&Path) -> Result<Option<Dialect>>,
) -> Result<Vec<Input>> {
    let mut out = Vec::new();
    for root in paths {
        let meta =
            std::fs::metadata(root).with_context(|| format!("cannot read `{}`", root.display()))?;
        if meta.is_file() {
            out.push(input(root, file_type(root)?));
            continue;
        }
        if !meta.is_dir() {
            bail!("`{}` is neither a file nor a folder", root.display());
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build();
        for entry in walker {
            let entry = entry.with_context(|| format!("cannot walk `{}`", root.display()))?;
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let configured = file_type(entry.path())?;
            if configured.is_some() || is_pipeline_candidate(entry.path()) {
                out.push(input(entry.path(), configured));
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Files a folder walk picks: YAML files, Bicep and Terraform files, Dockerfiles, dev container
/// definitions, and JSON files that look like ARM templates (the analyzer decides for sure;
/// other JSON gives no references).
fn is_pipeline_candidate(path: &Path) -> bool {
    if pin_core::dialect::dockerfile::is_dockerfile(&path.to_string_lossy()) {
        return true;
    }
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("yml" | "yaml" | "bicep" | "tf") => true,
        Some("json") => {
            pin_core::dialect::devcontainer::is_devcontainer_path(
                &path.to_string_lossy().replace('\\', "/"),
            ) || looks_like_arm_template(path)
        }
        _ => false,
    }
}

/// A cheap look inside a `.json` file: ARM templates name a `deploymentTemplate` schema or
/// have `"resources"`. Files over 16 MiB are not templates (ARM's limit is 4 MB).
fn looks_like_arm_template(path: &Path) -> bool {
    let small = std::fs::metadata(path).is_ok_and(|m| m.len() <= 16 << 20);
    small
        && std::fs::read(path).is_ok_and(|bytes| {
            let text = String::from_utf8_lossy(&bytes);
            text.contains("\"resources\"")
                || text.to_ascii_lowercase().contains("deploymenttemplate")
        })
}

fn input(path: &Path, file_type: Option<Dialect>) -> Input {
    let shown = path.to_string_lossy().replace('\\', "/");
    let mut display = shown.as_str();
    while let Some(rest) = display.strip_prefix("./") {
        display = rest;
    }
    Input {
        display: display.to_string(),
        path: path.to_path_buf(),
        file_type,
    }
}
