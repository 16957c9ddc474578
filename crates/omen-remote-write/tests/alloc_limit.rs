//! The snappy header is checked before allocating: a tiny body that claims 4 GiB is refused
//! with 413 without any large allocation, and an accepted body allocates at most the limit.
//! Measured with a counting global allocator, in its own test binary, one test function.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use omen_remote_write::{Limits, decode_request, decompress};

struct Counting;

static TRACKING: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only records sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if TRACKING.load(Ordering::Relaxed) {
            LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if TRACKING.load(Ordering::Relaxed) {
            LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if TRACKING.load(Ordering::Relaxed) {
            LARGEST.fetch_max(new_size, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The largest single allocation made while `f` runs.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.store(0, Ordering::SeqCst);
    TRACKING.store(true, Ordering::SeqCst);
    let out = f();
    TRACKING.store(false, Ordering::SeqCst);
    (out, LARGEST.load(Ordering::SeqCst))
}

#[test]
fn claims_are_checked_before_allocating() {
    let four_gib = [0x80, 0x80, 0x80, 0x80, 0x10, 0x00, 0x01, 0x02];
    // (name, body, limit, status)
    let cases: &[(&str, &[u8], usize, u16)] = &[
        ("4 GiB claim, 1 MiB limit", &four_gib, 1 << 20, 413),
        ("4 GiB claim, 3 GiB limit", &four_gib, 3 << 30, 413),
        (
            "u64::MAX claim",
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            usize::MAX >> 1,
            413,
        ),
    ];
    for &(name, body, limit, status) in cases {
        let (result, largest) = largest_allocation(|| decompress(body, limit));
        assert_eq!(result.map_err(|r| r.status), Err(status), "{name}");
        assert!(largest < 4096, "{name}: largest allocation {largest} bytes");
    }

    // A garbage block that claims exactly the limit may allocate the limit, and no more.
    let (result, largest) =
        largest_allocation(|| decompress(&[0x80, 0x80, 0x40, 0x00, 0xff], 1 << 20));
    assert_eq!(result.map_err(|r| r.status), Err(400));
    assert!(largest <= 1 << 20, "largest allocation {largest} bytes");

    // A real body within the limit allocates its decoded size for the snappy output.
    let body = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/prom-2.42-selfscrape-500.bin"),
    )
    .unwrap();
    let limits = Limits {
        max_body_bytes: body.len(),
        max_decoded_bytes: 66_970,
    };
    let (result, _) = largest_allocation(|| decode_request(None, None, &body, &limits));
    assert_eq!(result.unwrap().series.len(), 500);
    let tight = Limits {
        max_decoded_bytes: 66_969,
        ..limits
    };
    let (result, largest) = largest_allocation(|| decode_request(None, None, &body, &tight));
    assert_eq!(result.map_err(|r| r.status), Err(413));
    assert!(
        largest < 4096,
        "refused without allocating: largest {largest} bytes"
    );
}
