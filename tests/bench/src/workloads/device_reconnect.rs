//! Workload g: a phone holding every record of the server reconnects. Itinera's rows are its
//! phone SDK (the replica and sync client the Kotlin, Swift and Python apps use); Node's and
//! samod's are the unmodified JS automerge-repo client with its NodeFS storage. Each device
//! syncs once into empty storage, reconnects with nothing changed, and reconnects after 100
//! records changed on the server; every round is timed from connecting until the device is
//! caught up, and its bytes counted by one TCP relay in front of the server.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::Wire;
use crate::peers::Server;
use crate::records;
use crate::report::{Figure, Outcome, Unit};
use crate::wire_proxy::WireProxy;

use super::{Sizes, seed_and_restart};

const SPACE: u32 = 7;

/// Records changed on the server between the second and third rounds.
pub const CHANGED: u32 = 100;

/// The city the changed records move to, which the device must hold after the third round.
const CHANGED_CITY: &str = "Graz";

pub async fn run(server: &mut Server, sizes: &Sizes) -> Result<Outcome, String> {
    let wire = Arc::new(Wire::default());
    seed_and_restart(server, &wire, SPACE, sizes.device_records).await?;
    let ids: Vec<_> = (0..sizes.device_records)
        .map(|n| records::doc_id(SPACE, n))
        .collect();
    let proxy = WireProxy::start(server.port).await?;
    let storage = server.data.with_extension("device");
    let _ = std::fs::remove_dir_all(&storage);
    let device = if server.peer.is_itinera() {
        Device::Sdk(Sdk::open(&storage, server, proxy.port)?)
    } else {
        Device::Js(Js::new(&storage, server, proxy.port, &ids)?)
    };
    let mut outcome = Outcome::default();
    for round in [
        "first sync",
        "reconnect, nothing changed",
        "reconnect, 100 changed",
    ] {
        if round == "reconnect, 100 changed" {
            change_on_server(server, &ids[..CHANGED as usize]).await?;
        }
        let (bytes, cpu) = (proxy.bytes(), server.cpu_seconds());
        let seconds = device.sync().await?;
        let label = match round {
            "reconnect, 100 changed" => format!("reconnect, {CHANGED} of {} changed", ids.len()),
            _ => round.to_string(),
        };
        outcome.push(Figure::new(&label, Unit::Seconds, seconds));
        outcome.push(Figure::new(
            format!("{label}: bytes on the wire"),
            Unit::Bytes,
            (proxy.bytes() - bytes) as f64,
        ));
        outcome.push(Figure::new(
            format!("{label}: server CPU"),
            Unit::Seconds,
            server.cpu_seconds() - cpu,
        ));
    }
    device.check(&ids, CHANGED as usize)?;
    let _ = std::fs::remove_dir_all(&storage);
    Ok(outcome)
}

/// Changes `ids` on the server through another connection and waits until it acknowledged.
async fn change_on_server(server: &Server, ids: &[itinera_core::DocumentId]) -> Result<(), String> {
    let wire = Arc::new(Wire::default());
    let mut writer = super::fetch(
        &server.url(),
        &wire,
        "g-writer",
        ids,
        Duration::from_secs(600),
    )
    .await?;
    let actor = records::actor(1, SPACE);
    for id in ids {
        let actor = actor.clone();
        writer.node.change(id, |doc| {
            doc.set_actor(actor);
            records::set_address_line(doc, "city", CHANGED_CITY);
        });
    }
    let mut pending: Vec<_> = ids.to_vec();
    let acknowledged = writer
        .run_until(Instant::now() + Duration::from_secs(600), |c| {
            pending.retain(|id| !c.in_sync(id));
            pending.is_empty()
        })
        .await;
    writer.disconnect().await;
    if acknowledged {
        Ok(())
    } else {
        Err(format!("{} changes were never acknowledged", pending.len()))
    }
}

/// The device of one server's row.
enum Device {
    Sdk(Sdk),
    Js(Js),
}

impl Device {
    /// Connects, syncs until caught up, disconnects; the seconds it took.
    async fn sync(&self) -> Result<f64, String> {
        match self {
            Device::Sdk(sdk) => sdk.sync().await,
            Device::Js(js) => js.sync(),
        }
    }

    /// Every record is on the device, and the changed ones carry the change.
    fn check(&self, ids: &[itinera_core::DocumentId], changed: usize) -> Result<(), String> {
        match self {
            Device::Sdk(sdk) => sdk.check(ids, changed),
            // The JS client's own condition (each document's heads are the server's) is the
            // check: it exits non-zero otherwise.
            Device::Js(_) => Ok(()),
        }
    }
}

/// Itinera's phone SDK: a replica file and a sync client.
struct Sdk {
    replica: Arc<itinera::Replica>,
    client: Arc<itinera::SyncClient>,
}

impl Sdk {
    fn open(storage: &Path, server: &Server, port: u16) -> Result<Self, String> {
        std::fs::create_dir_all(storage).map_err(|err| format!("{}: {err}", storage.display()))?;
        let file = storage.join("phone.redb").display().to_string();
        let replica = itinera::Replica::open(file, server.user().into())
            .map_err(|err| format!("replica: {err}"))?;
        let client = itinera::SyncClient::new(
            replica.clone(),
            format!("ws://127.0.0.1:{port}/sync"),
            server.token().into(),
        )
        .map_err(|err| format!("sync client: {err}"))?;
        Ok(Self { replica, client })
    }

    async fn sync(&self) -> Result<f64, String> {
        let started = Instant::now();
        self.client
            .sync_now()
            .await
            .map_err(|err| format!("sync: {err}"))?;
        Ok(started.elapsed().as_secs_f64())
    }

    fn check(&self, ids: &[itinera_core::DocumentId], changed: usize) -> Result<(), String> {
        for (n, id) in ids.iter().enumerate() {
            let account = self
                .replica
                .account(id.to_url())
                .map_err(|err| format!("{id}: {err}"))?
                .ok_or_else(|| format!("{id} is not on the phone"))?;
            if n < changed && account.city != CHANGED_CITY {
                return Err(format!("{id} lacks the server's change"));
            }
        }
        Ok(())
    }
}

/// The JS automerge-repo client, one Node process per round on the same storage folder.
struct Js {
    url: String,
    storage: std::path::PathBuf,
    ids_file: std::path::PathBuf,
    script: std::path::PathBuf,
    tests_dir: std::path::PathBuf,
}

impl Js {
    fn new(
        storage: &Path,
        server: &Server,
        port: u16,
        ids: &[itinera_core::DocumentId],
    ) -> Result<Self, String> {
        let ids_file = storage.with_extension("ids.json");
        let urls: Vec<String> = ids
            .iter()
            .map(|id| format!("\"{}\"", id.to_url()))
            .collect();
        std::fs::write(&ids_file, format!("[{}]", urls.join(",")))
            .map_err(|err| format!("{}: {err}", ids_file.display()))?;
        Ok(Self {
            url: format!("ws://127.0.0.1:{port}/"),
            storage: storage.to_path_buf(),
            ids_file,
            script: server.programs().tests_dir.join("bench/device-client.mjs"),
            tests_dir: server.programs().tests_dir.clone(),
        })
    }

    fn sync(&self) -> Result<f64, String> {
        let out = Command::new("node")
            .current_dir(&self.tests_dir)
            .arg(&self.script)
            .arg(&self.url)
            .arg(&self.storage)
            .arg(&self.ids_file)
            .output()
            .map_err(|err| format!("node: {err}"))?;
        if !out.status.success() {
            return Err(format!(
                "the JS client failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().last().unwrap_or_default();
        line.split("\"seconds\":")
            .nth(1)
            .and_then(|rest| rest.split([',', '}']).next())
            .and_then(|number| number.trim().parse().ok())
            .ok_or_else(|| format!("the JS client printed no time: {text}"))
    }
}

impl Drop for Js {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ids_file);
    }
}
