//! Hostile bodies: random bytes, and random mutations and truncations of real Prometheus
//! bodies (compressed and decompressed), never panic, and never decode past the limit.

use std::fs;
use std::path::Path;

use omen_remote_write::{Protocol, decode, decompress};
use proptest::prelude::*;

const LIMIT: usize = 64 << 10;

fn fixture_bodies() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut bodies: Vec<Vec<u8>> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .map(|p| fs::read(p).unwrap())
        .collect();
    bodies.sort();
    assert_eq!(bodies.len(), 6);
    bodies
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Set { at: usize, byte: u8 },
    Truncate { at: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Remove { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..12))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Mutation::Remove { at, len }),
    ]
}

fn apply(data: &mut Vec<u8>, mutation: &Mutation) {
    if data.is_empty() {
        return;
    }
    let at = |i: usize| i % data.len();
    match mutation {
        Mutation::Flip { at: i, mask } => {
            let i = at(*i);
            data[i] ^= mask;
        }
        Mutation::Set { at: i, byte } => {
            let i = at(*i);
            data[i] = *byte;
        }
        Mutation::Truncate { at: i } => data.truncate(at(*i)),
        Mutation::Insert { at: i, bytes } => {
            let i = at(*i);
            data.splice(i..i, bytes.iter().copied());
        }
        Mutation::Remove { at: i, len } => {
            let i = at(*i);
            let end = (i + len).min(data.len());
            data.drain(i..end);
        }
    }
}

/// Decompress then decode as both protocols; whatever happens, no panic and no output past
/// the limit, and a rejection always carries a 4xx status and a message.
fn receive(body: &[u8]) {
    match decompress(body, LIMIT) {
        Ok(bytes) => {
            assert!(bytes.len() <= LIMIT);
            decode_both(&bytes);
        }
        Err(r) => assert!(
            matches!(r.status, 400 | 413) && !r.message.is_empty(),
            "{r:?}"
        ),
    }
}

fn decode_both(bytes: &[u8]) {
    for protocol in [Protocol::V1, Protocol::V2] {
        match decode(protocol, bytes) {
            Ok(batch) => {
                let s = &batch.stats;
                assert!(s.series_accepted + s.invalid_series.total() == s.series_received);
                assert!(s.samples_accepted + s.invalid_samples == s.samples_received);
                assert!(batch.series.len() as u64 <= s.series_accepted);
                let outcome = batch.outcome();
                assert!(matches!(outcome.status, 204 | 400));
                assert!(!outcome.message.unwrap_or_default().contains('\n'));
            }
            Err(r) => assert_eq!(r.status, 400, "{r:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        receive(&body);
        decode_both(&body);
    }

    #[test]
    fn mutated_fixture_bodies(
        which in 0..6usize,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut body = fixture_bodies()[which].clone();
        for m in &mutations {
            apply(&mut body, m);
        }
        receive(&body);
    }

    #[test]
    fn mutated_fixture_protobufs(
        which in 0..6usize,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        // Mutating the decompressed protobuf reaches the decoder's deeper paths, which a
        // mutated snappy block mostly does not.
        let mut bytes = decompress(&fixture_bodies()[which], usize::MAX).unwrap();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        decode_both(&bytes);
    }

    #[test]
    fn oversized_claims_are_413(claim in (LIMIT as u64 + 1)..=u64::MAX, tail in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut body = Vec::new();
        let mut v = claim;
        while v >= 0x80 {
            body.push((v as u8) | 0x80);
            v >>= 7;
        }
        body.push(v as u8);
        body.extend(tail);
        let r = decompress(&body, LIMIT).unwrap_err();
        prop_assert_eq!(r.status, 413);
    }
}
