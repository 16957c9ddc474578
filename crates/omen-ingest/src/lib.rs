//! Omen's sources.
