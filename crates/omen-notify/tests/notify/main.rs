//! omen-notify against real listeners on 127.0.0.1: one test binary (see `tests/notify/`).

mod delivery;
mod rails;
mod restart;
mod support;
