//! The workspace's pipeline files, by path, for workspace-wide commands and cross-file
//! analysis (container aliases, template parameters) once pin-core offers it.
//!
//! The index holds the text on disk; open documents are kept by the session and win over it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Files larger than this are not indexed (pipeline files are far smaller; generated YAML is
/// not worth the memory).
const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// Whether `path` looks like a file pin-lint analyzes (`.yml` / `.yaml`).
pub fn is_pipeline_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// Workspace folders and the texts of their pipeline files.
#[derive(Default)]
pub struct WorkspaceIndex {
    roots: RwLock<Vec<PathBuf>>,
    files: RwLock<BTreeMap<PathBuf, Arc<str>>>,
}

impl WorkspaceIndex {
    /// Replace the workspace folders (the index is rebuilt by [`WorkspaceIndex::rebuild`]).
    pub fn set_roots(&self, roots: Vec<PathBuf>) {
        *write(&self.roots) = roots;
    }

    /// The workspace folders.
    pub fn roots(&self) -> Vec<PathBuf> {
        read(&self.roots).clone()
    }

    /// Walk every workspace folder (honouring `.gitignore`) and index its pipeline files.
    /// Blocking: call it off the async workers.
    pub fn rebuild(&self) -> usize {
        let mut files = BTreeMap::new();
        for root in self.roots() {
            let walker = ignore::WalkBuilder::new(&root)
                .hidden(false)
                .filter_entry(|e| e.file_name() != ".git")
                .build();
            for entry in walker.flatten() {
                let path = entry.path();
                if entry.file_type().is_some_and(|t| t.is_file()) && is_pipeline_file(path) {
                    if let Some(text) = read_text(path) {
                        files.insert(path.to_path_buf(), text);
                    }
                }
            }
        }
        let count = files.len();
        *write(&self.files) = files;
        count
    }

    /// Re-read one file after a change on disk, or drop it when it is gone.
    pub fn refresh(&self, path: &Path) {
        if !is_pipeline_file(path) {
            return;
        }
        match read_text(path) {
            Some(text) => write(&self.files).insert(path.to_path_buf(), text),
            None => write(&self.files).remove(path),
        };
    }

    /// Every indexed file and its text on disk.
    pub fn files(&self) -> Vec<(PathBuf, Arc<str>)> {
        read(&self.files)
            .iter()
            .map(|(p, t)| (p.clone(), t.clone()))
            .collect()
    }
}

fn read_text(path: &Path) -> Option<Arc<str>> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    String::from_utf8(bytes).ok().map(Arc::from)
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_yaml_files_and_refreshes_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("eng")).expect("mkdir");
        std::fs::write(dir.path().join("eng/a.yml"), "jobs: []\n").expect("write");
        std::fs::write(dir.path().join("README.md"), "# x\n").expect("write");
        let index = WorkspaceIndex::default();
        index.set_roots(vec![dir.path().to_path_buf()]);
        assert_eq!(index.rebuild(), 1);
        let b = dir.path().join("b.yaml");
        std::fs::write(&b, "x: 1\n").expect("write");
        index.refresh(&b);
        let texts = index.files();
        assert_eq!(texts.len(), 2);
        let b_text = texts.iter().find(|(p, _)| *p == b).map(|(_, t)| &**t);
        assert_eq!(b_text, Some("x: 1\n"));
        std::fs::remove_file(&b).expect("rm");
        index.refresh(&b);
        assert_eq!(index.files().len(), 1);
    }
}
