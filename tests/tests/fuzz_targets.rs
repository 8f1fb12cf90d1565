//! The fuzz targets of `tests/fuzz` inside the test suite: every crasher the fuzzers ever found
//! (kept in `tests/fuzz/crashers/<target>/`) and every seed is replayed, and a property test per
//! target feeds it random bytes and mutated seeds. The functions under test are the very ones
//! the fuzzers run (`tests/fuzz/harness.rs`): a panic is a failure.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

use proptest::prelude::*;

const TARGETS: [&str; 3] = ["frame", "session", "document"];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn run(target: &str, data: &[u8]) {
    match target {
        "frame" => harness::frame(data),
        "session" => harness::session(data),
        "document" => harness::document(data),
        other => panic!("no fuzz target {other}"),
    }
}

/// The files of `dir`, sorted; none if it does not exist.
fn inputs(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_none_or(|ext| ext != "md"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("read input");
            (path, bytes)
        })
        .collect()
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    inputs(&fuzz_dir().join("corpus").join(target))
        .into_iter()
        .map(|(_, bytes)| bytes)
        .collect()
}

#[test]
fn every_kept_crasher_and_every_seed_runs_clean() {
    for target in TARGETS {
        let seeds = inputs(&fuzz_dir().join("corpus").join(target));
        assert!(
            seeds.len() >= 3,
            "the seed corpus of {target} is missing: run tests/fuzz/run.sh or its seed_corpus step"
        );
        for (path, bytes) in seeds
            .iter()
            .chain(&inputs(&fuzz_dir().join("crashers").join(target)))
        {
            eprintln!("{target}: {}", path.display());
            run(target, bytes);
        }
    }
}

#[test]
fn the_session_seed_reaches_the_sync_engine() {
    // The seeds are only worth mutating if they are real: the phone's frames decode, and the
    // first is a join.
    let seeds = seeds("session");
    let phone = seeds
        .iter()
        .find(|seed| seed.first() == Some(&1))
        .expect("a session seed with its own join");
    let frames = harness::split_frames(&phone[1..]);
    assert!(frames.len() >= 3, "{} frames", frames.len());
    let limits = itinera_core::protocol::DecodeLimits::default();
    let first = itinera_core::protocol::Message::decode(frames[0], &limits).expect("decodes");
    assert!(matches!(
        first,
        itinera_core::protocol::Message::Join { .. }
    ));
    assert!(frames.iter().any(|frame| matches!(
        itinera_core::protocol::Message::decode(frame, &limits),
        Ok(itinera_core::protocol::Message::Sync { .. })
    )));
}

/// One mutation of a byte string, as a fuzzer makes them.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    /// Copies a run of the input over another place in it.
    Splice(usize, usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, bits)| Edit::Flip(at, bits)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Insert(at, byte)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<usize>(), 1..64usize)
            .prop_map(|(from, to, len)| Edit::Splice(from, to, len)),
    ]
}

fn mutate(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len().max(1);
        match *edit {
            Edit::Flip(at, bits) => {
                if let Some(byte) = bytes.get_mut(at % len) {
                    *byte ^= bits;
                }
            }
            Edit::Insert(at, byte) => bytes.insert(at % (bytes.len() + 1), byte),
            Edit::Delete(at) => {
                if !bytes.is_empty() {
                    bytes.remove(at % len);
                }
            }
            Edit::Truncate(at) => bytes.truncate(at % len),
            Edit::Splice(from, to, run) => {
                if !bytes.is_empty() {
                    let from = from % bytes.len();
                    let to = to % bytes.len();
                    let run = run.min(bytes.len() - from).min(bytes.len() - to);
                    let copied = bytes[from..from + run].to_vec();
                    bytes[to..to + run].copy_from_slice(&copied);
                }
            }
        }
    }
    bytes
}

fn mutated_seed(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = seeds(target);
    let count = seeds.len().max(1);
    (0..count, prop::collection::vec(edit(), 0..12)).prop_map(move |(index, edits)| {
        mutate(seeds.get(index).cloned().unwrap_or_default(), &edits)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn frame_decoding_survives_random_and_mutated_frames(
        data in prop_oneof![prop::collection::vec(any::<u8>(), 0..256), mutated_seed("frame")]
    ) {
        run("frame", &data);
    }

    #[test]
    fn the_sync_engine_survives_random_and_mutated_sessions(
        data in prop_oneof![prop::collection::vec(any::<u8>(), 0..512), mutated_seed("session")]
    ) {
        run("session", &data);
    }

    /// Real sessions with one frame mutated and the others intact, so the engine sees a valid
    /// handshake and real sync messages around the broken one.
    #[test]
    fn the_sync_engine_survives_one_broken_frame_in_a_real_session(
        seed in 0..8usize,
        frame in any::<usize>(),
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let seeds = seeds("session");
        let session = &seeds[seed % seeds.len()];
        let mut frames: Vec<Vec<u8>> =
            harness::split_frames(&session[1..]).into_iter().map(<[u8]>::to_vec).collect();
        let at = frame % frames.len().max(1);
        if let Some(target) = frames.get_mut(at) {
            *target = mutate(std::mem::take(target), &edits);
        }
        let mut data = vec![session[0]];
        data.extend(harness::join_frames(&frames));
        run("session", &data);
    }

    #[test]
    fn document_loading_survives_random_and_mutated_documents(
        data in prop_oneof![prop::collection::vec(any::<u8>(), 0..512), mutated_seed("document")]
    ) {
        run("document", &data);
    }
}
