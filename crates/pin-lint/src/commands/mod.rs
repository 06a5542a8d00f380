//! One module per subcommand.

pub mod check;
pub mod refs;
pub mod rules;
