//! Integration tests of NAB scoring, built as one test binary.
//!
//! `handmade` scores a tiny synthetic corpus whose results are worked out by hand, `ties` the
//! sweep's tie-breaking, `errors` the rejected inputs and `corpus` the real NAB corpus (skipped
//! with a message when it is absent).

mod corpus;
mod errors;
mod handmade;
mod support;
mod ties;
