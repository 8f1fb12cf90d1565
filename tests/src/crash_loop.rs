//! The crash loop: devices write to the server while it is killed with SIGKILL at random
//! moments and started again. After every kill the store must check clean
//! (`itinera-server check`), and after every restart every change a device saw acknowledged
//! must be on the server.
//!
//! Each device writes to a document of its own and to one document all of them share, one
//! change at a time, waiting for the server to acknowledge each. A change counts as
//! acknowledged when the heads the server last announced include it; the server announces
//! heads only once they are durable. Devices keep what the server never acknowledged and send
//! it again after the restart, as a phone would.
//!
//! Used by the `crash_loop` test (a few cycles) and the `crash_loop` example (as many as asked).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ChangeHash, ROOT};
use itinera_core::DocumentId;

use crate::device::Device;
use crate::server::{Backend, DataDir, TestServer};

/// How a crash loop runs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub cycles: usize,
    pub devices: usize,
    /// Seeds the moments of the kills.
    pub seed: u64,
    /// The server lives between `min_uptime` and `max_uptime` before each kill.
    pub min_uptime: Duration,
    pub max_uptime: Duration,
    /// Where the server stores: its redb file, or a PostgreSQL schema.
    pub backend: Backend,
}

/// What a crash loop did; it panics instead of returning if anything was lost.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub cycles: usize,
    /// Changes written by the devices.
    pub written: usize,
    /// Changes the devices saw acknowledged, all found after the restarts.
    pub acknowledged: usize,
    /// Documents in the store at the end, every one of which loads and validates.
    pub documents_checked: usize,
    pub elapsed: Duration,
}

/// A small, seedable generator for the kill moments (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `low..high` (`low` if the range is empty).
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        low + self.next_u64() % (high - low)
    }
}

fn doc_id(n: u16) -> DocumentId {
    let [high, low] = n.to_be_bytes();
    DocumentId::new_v7(
        1_764_200_000_000 + u64::from(n),
        [high, low, 7, 7, 7, 7, 7, 7, 7, 7],
    )
}

const SHARED: u16 = 9_999;

/// One device with what it wrote and what the server acknowledged.
struct Writer {
    index: u16,
    device: Option<Device>,
    own: DocumentId,
    /// Written, not yet seen acknowledged: (document, key, change).
    pending: Vec<(DocumentId, String, ChangeHash)>,
    /// Seen acknowledged: document → keys.
    acknowledged: BTreeMap<DocumentId, Vec<String>>,
    written: usize,
    next: u64,
}

impl Writer {
    fn new(index: u16) -> Self {
        Self {
            index,
            device: None,
            own: doc_id(index),
            pending: Vec::new(),
            acknowledged: BTreeMap::new(),
            written: 0,
            next: 0,
        }
    }

    fn connect(&mut self, url: &str, token: &str) {
        match self.device.as_mut() {
            Some(device) => device.reconnect(url, token).expect("device reconnects"),
            None => {
                let mut device =
                    Device::connect(url, token, &format!("crash-device-{}", self.index))
                        .expect("device connects");
                for id in [self.own, doc_id(SHARED)] {
                    let mut doc =
                        AutoCommit::new().with_actor(ActorId::from(actor_bytes(self.index)));
                    doc.put(ROOT, format!("created-by-{}", self.index), true)
                        .expect("put");
                    doc.commit();
                    device.node.insert(id, doc);
                }
                self.device = Some(device);
            }
        }
    }

    /// Writes until the connection drops (the server was killed).
    fn write_until_disconnected(&mut self) {
        let Some(mut device) = self.device.take() else {
            return;
        };
        while !device.closed {
            self.next += 1;
            let id = if self.next % 3 == 0 {
                doc_id(SHARED)
            } else {
                self.own
            };
            let key = format!("d{}-{}", self.index, self.next);
            let value = i64::try_from(self.next).unwrap_or(i64::MAX);
            let hash = device.node.change(&id, |doc| {
                doc.put(ROOT, key.as_str(), value).expect("put");
                doc.get_last_local_change().map(|change| change.hash())
            });
            let Some(Some(hash)) = hash else {
                panic!("device {} could not change {id}", self.index);
            };
            self.pending.push((id, key, hash));
            self.written += 1;
            device.run_until(Duration::from_secs(5), |device| {
                device.closed || server_has(device, &id, &hash)
            });
            self.settle(&mut device);
        }
        self.settle(&mut device);
        self.device = Some(device);
    }

    /// Moves every pending change the server's last heads include to `acknowledged`.
    fn settle(&mut self, device: &mut Device) {
        let acknowledged = &mut self.acknowledged;
        self.pending.retain(|(id, key, hash)| {
            if server_has(device, id, hash) {
                acknowledged.entry(*id).or_default().push(key.clone());
                false
            } else {
                true
            }
        });
    }
}

fn actor_bytes(index: u16) -> [u8; 16] {
    let mut bytes = [0x42u8; 16];
    bytes[..2].copy_from_slice(&index.to_be_bytes());
    bytes
}

/// Whether the heads the server last announced for `id` include `change`.
fn server_has(device: &mut Device, id: &DocumentId, change: &ChangeHash) -> bool {
    let server_heads = device.server_heads(id);
    if server_heads.is_empty() {
        return false;
    }
    let Some(doc) = device.node.document(id) else {
        return false;
    };
    let mut doc = doc.clone();
    if server_heads
        .iter()
        .any(|head| doc.get_change_by_hash(head).is_none())
    {
        // The server is ahead of us: ask again once its changes arrived.
        return false;
    }
    !doc.get_changes(&server_heads)
        .iter()
        .any(|later| later.hash() == *change)
}

/// Checks, through the REST API, that the server holds every acknowledged key.
fn verify(server: &TestServer, token: &str, writers: &[Writer]) -> usize {
    let mut documents: BTreeMap<DocumentId, Vec<&String>> = BTreeMap::new();
    for writer in writers {
        for (id, keys) in &writer.acknowledged {
            documents.entry(*id).or_default().extend(keys);
        }
    }
    let mut found = 0;
    for (id, keys) in documents {
        let (status, view) = server.document(token, &id);
        assert_eq!(
            status, 200,
            "document {id} is gone after the restart: {view}"
        );
        for key in keys {
            assert!(
                !view["record"][key.as_str()].is_null(),
                "acknowledged change {key} of {id} was lost"
            );
            found += 1;
        }
    }
    found
}

/// Runs the loop; panics with the seed if an acknowledged change is lost or the store does not
/// check clean.
pub fn run(settings: &Settings, mut progress: impl FnMut(&str)) -> Report {
    let started = Instant::now();
    let data = DataDir::new("crash-loop");
    let backend = &settings.backend;
    let token = backend.user_with_token(&data, "olga", "office", &[]);
    let mut rng = Rng::new(settings.seed);
    let devices = u16::try_from(settings.devices).expect("fewer than 65,536 devices");
    let mut writers: Vec<Writer> = (0..devices).map(Writer::new).collect();
    let mut server = backend.start(&data, &[]);

    for cycle in 1..=settings.cycles {
        let url = server.sync_url();
        for writer in &mut writers {
            writer.connect(&url, &token);
        }
        let uptime = Duration::from_millis(rng.between(
            u64::try_from(settings.min_uptime.as_millis()).unwrap_or(u64::MAX),
            u64::try_from(settings.max_uptime.as_millis()).unwrap_or(u64::MAX),
        ));
        let threads: Vec<_> = writers
            .drain(..)
            .map(|mut writer| {
                std::thread::spawn(move || {
                    writer.write_until_disconnected();
                    writer
                })
            })
            .collect();
        // The kill lands at a random moment of the write load; this pause is that moment.
        std::thread::sleep(uptime);
        server.kill9();
        writers = threads
            .into_iter()
            .map(|thread| thread.join().expect("device thread"))
            .collect();

        let checked = backend.cli(&data, &["check"]);
        assert!(
            checked.contains(", 0 broken"),
            "cycle {cycle} (seed {:#x}): the store does not check clean:\n{checked}",
            settings.seed
        );
        server = backend.start(&data, &[]);
        let found = verify(&server, &token, &writers);
        let written: usize = writers.iter().map(|w| w.written).sum();
        progress(&format!(
            "cycle {cycle}/{}: killed after {} ms; {written} changes written, {found} acknowledged and all present",
            settings.cycles,
            uptime.as_millis()
        ));
    }

    // The changes never acknowledged still reach the server once the devices sync again.
    let url = server.sync_url();
    for writer in &mut writers {
        writer.connect(&url, &token);
        let mut device = writer.device.take().expect("device");
        let ids: Vec<DocumentId> = writer.pending.iter().map(|(id, _, _)| *id).collect();
        let synced = device.run_until(Duration::from_secs(30), |device| {
            ids.iter().all(|id| device.acknowledged(id))
        });
        assert!(
            synced,
            "device {} could not sync its unacknowledged changes",
            writer.index
        );
        writer.settle(&mut device);
        assert!(writer.pending.is_empty());
        device.disconnect();
    }
    let acknowledged = verify(&server, &token, &writers);
    server.terminate();
    let summary = backend.cli(&data, &["check"]);
    let documents_checked = summary
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Report {
        cycles: settings.cycles,
        written: writers.iter().map(|w| w.written).sum(),
        acknowledged,
        documents_checked,
        elapsed: started.elapsed(),
    }
}
