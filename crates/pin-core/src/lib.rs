//! The pin-lint analyzer: text, settings and facts in; references and findings out.
//!
//! Pure and synchronous: no I/O, no network. The data flow is
//! `parse → dialect → references → rules → findings (with fixes)`.

pub mod analyze;
pub mod config;
pub mod dialect;
pub mod dockerfile;
pub mod engine;
pub mod facts;
pub mod finding;
pub mod fix;
pub mod jsonc;
pub mod model;
pub mod reference;
pub mod rules;
pub mod settings;
pub mod source;
pub mod suppress;
pub mod template;
pub mod vm_images;
pub mod yaml;

pub use analyze::Analysis;
pub use facts::{Facts, TagFact, VmVersion};
pub use finding::{Finding, Severity};
pub use fix::{Applicability, Edit, Fix};
pub use model::{Kind, Reference, Site, State, VmImage};
pub use reference::ImageRef;
pub use rules::Rule;
pub use settings::Settings;
pub use source::{LineCol, SourceFile};
