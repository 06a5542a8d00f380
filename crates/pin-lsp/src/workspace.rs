//! The workspace's pipeline files, by path: each one analysed once per content on disk, for
//! workspace-wide commands and for the cross-file template layer.
//!
//! The index holds what is on disk; open documents are kept by the session and win over it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};

use pin_core::dialect::Dialect;
use pin_core::Analysis;

use crate::templates::Hints;

/// Files larger than this are not indexed (pipeline files are far smaller; generated YAML is
/// not worth the memory).
const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// Whether `path` looks like a file pin-lint analyzes (`.yml` / `.yaml`).
pub fn is_pipeline_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// The path the analyzer sees for a file: `/` separators.
pub fn analyzer_path_of(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// One file on disk and its analysis.
pub struct IndexedFile {
    /// Its path.
    pub path: PathBuf,
    /// Its analysis (the text on disk is `analysis.source`).
    pub analysis: Arc<Analysis>,
    hints: OnceLock<Arc<Hints>>,
}

impl IndexedFile {
    fn read(path: &Path, file_type: Option<Dialect>) -> Option<IndexedFile> {
        let text = read_text(path)?;
        Some(IndexedFile {
            analysis: Arc::new(Analysis::new_as(&analyzer_path_of(path), text, file_type)),
            path: path.to_path_buf(),
            hints: OnceLock::new(),
        })
    }

    /// What the template layer needs to know about the file before reading it.
    pub fn hints(&self) -> Arc<Hints> {
        self.hints
            .get_or_init(|| Arc::new(Hints::of(self.analysis.source.text())))
            .clone()
    }
}

/// Workspace folders and the analyses of their pipeline files.
#[derive(Default)]
pub struct WorkspaceIndex {
    roots: RwLock<Vec<PathBuf>>,
    files: RwLock<BTreeMap<PathBuf, Arc<IndexedFile>>>,
    ready: OnceLock<()>,
    ready_signal: tokio::sync::Notify,
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

    /// Walk every workspace folder (honouring `.gitignore`), analyse its pipeline files and
    /// the files `[files]` in `pin-lint.toml` gives a type (`file_type`), and mark the index
    /// ready. Blocking: call it off the async workers.
    pub fn rebuild(&self, file_type: &dyn Fn(&Path) -> Option<Dialect>) -> usize {
        let mut files = BTreeMap::new();
        for root in self.roots() {
            let walker = ignore::WalkBuilder::new(&root)
                .hidden(false)
                .filter_entry(|e| e.file_name() != ".git")
                .build();
            for entry in walker.flatten() {
                let path = entry.path();
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    continue;
                }
                let configured = file_type(path);
                if configured.is_some() || is_pipeline_file(path) {
                    if let Some(file) = IndexedFile::read(path, configured) {
                        files.insert(path.to_path_buf(), Arc::new(file));
                    }
                }
            }
        }
        let count = files.len();
        *write(&self.files) = files;
        if self.ready.set(()).is_ok() {
            self.ready_signal.notify_waiters();
        }
        count
    }

    /// Whether the first walk of the workspace has finished.
    pub fn is_ready(&self) -> bool {
        self.ready.get().is_some()
    }

    /// Wait until the first walk of the workspace has finished.
    pub async fn wait_ready(&self) {
        loop {
            let notified = self.ready_signal.notified();
            if self.is_ready() {
                return;
            }
            notified.await;
        }
    }

    /// Re-read one file after a change on disk, or drop it when it is gone. Blocking.
    pub fn refresh(&self, path: &Path, file_type: Option<Dialect>) {
        if file_type.is_none() && !is_pipeline_file(path) {
            return;
        }
        match IndexedFile::read(path, file_type) {
            Some(file) => write(&self.files).insert(path.to_path_buf(), Arc::new(file)),
            None => write(&self.files).remove(path),
        };
    }

    /// Every indexed file.
    pub fn files(&self) -> Vec<Arc<IndexedFile>> {
        read(&self.files).values().cloned().collect()
    }
}

fn read_text(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    String::from_utf8(bytes).ok()
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
        assert!(!index.is_ready());
        assert_eq!(index.rebuild(&|_| None), 1);
        assert!(index.is_ready());
        let b = dir.path().join("b.yaml");
        std::fs::write(&b, "x: 1\n").expect("write");
        index.refresh(&b, None);
        assert_eq!(index.files().len(), 2);
        let b_text = index
            .files()
            .iter()
            .find(|f| f.path == b)
            .map(|f| f.analysis.source.text().to_string());
        assert_eq!(b_text.as_deref(), Some("x: 1\n"));
        std::fs::remove_file(&b).expect("rm");
        index.refresh(&b, None);
        assert_eq!(index.files().len(), 1);
        assert!(index.files().iter().all(|f| f.path != b));
    }
}
