//! The `omen` command.
fn main() {}
