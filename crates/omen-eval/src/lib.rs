//! Omen's evaluation: NAB scoring.
