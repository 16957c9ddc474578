//! The protobuf messages of remote-write 1.0 ([`v1`]) and 2.0 ([`v2`]), as hand-written `prost`
//! structs (no `protoc` at build time). Public so that load generators and tests can build
//! bodies the typed API would refuse to produce (unsorted labels, bad symbol references …).

pub mod v1;
pub mod v2;
