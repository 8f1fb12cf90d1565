//! What the person who runs Itinera does with it, through the real binary: set up a data
//! folder, manage users through the running server, back it up under a write load, restore
//! it, move it with export and import, upgrade a store an older release wrote, read the logs
//! and the readiness of a server whose disk fills up.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ChangeHash, ROOT};
use itinera_core::DocumentId;
use itinera_tests::device::Device;
use itinera_tests::server::{DataDir, TestServer, binary, cli, http, http_get, user_with_token};

const WAIT: Duration = Duration::from_secs(30);

/// Runs the CLI on `data` with extra environment variables; returns the whole output.
fn run(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(binary());
    command.arg("--data").arg(data).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("itinera-server runs")
}

/// Like [`run`], and it must succeed; returns stdout.
fn ok(data: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = run(data, args, env);
    assert!(
        output.status.success(),
        "itinera-server {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Like [`run`], and it must fail; returns stderr.
fn refused(data: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = run(data, args, env);
    assert!(
        !output.status.success(),
        "itinera-server {args:?} should have failed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn doc_id(n: u16) -> DocumentId {
    let mut random = [0u8; 10];
    random[..2].copy_from_slice(&n.to_be_bytes());
    DocumentId::new_v7(1_764_200_000_000 + u64::from(n), random)
}

/// Polls `/readyz` until its status is `want` or the wait runs out; returns the last answer.
fn readyz_until(server: &TestServer, want: u16) -> (u16, String) {
    let deadline = Instant::now() + WAIT;
    loop {
        let answer = http_get(&format!("{}/readyz", server.base), None);
        if answer.0 == want || Instant::now() >= deadline {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The id → heads of every document of an export, from its manifest.
fn exported_heads(export: &Path) -> BTreeMap<String, Vec<String>> {
    let manifest = std::fs::read_to_string(export.join("manifest.ndjson")).expect("manifest");
    manifest
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("a JSON line"))
        .filter(|line| line["type"] == "document")
        .map(|line| {
            let heads = line["heads"]
                .as_array()
                .expect("heads")
                .iter()
                .map(|head| head.as_str().expect("a hash").to_owned())
                .collect();
            (line["id"].as_str().expect("id").to_owned(), heads)
        })
        .collect()
}

#[test]
fn init_makes_a_private_folder_and_an_admin_whose_token_runs_the_admin_commands() {
    let root = DataDir::new("init");
    let data = root.path().join("data");
    let password = [("ITINERA_ADMIN_PASSWORD", "first-admin-pw")];
    let out = ok(&data, &["init", "--admin", "root"], &password);
    assert!(
        out.lines()
            .last()
            .is_some_and(|line| line.starts_with("itn_")),
        "{out}"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&data)
            .expect("folder")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let again = refused(&data, &["init", "--admin", "other"], &password);
    assert!(again.contains("already has users"), "{again}");
    let no_password = refused(&root.path().join("other"), &["init"], &[]);
    assert!(
        no_password.contains("ITINERA_ADMIN_PASSWORD"),
        "{no_password}"
    );

    let data_dir = DataDir::new("init-serve");
    std::fs::remove_dir_all(data_dir.path()).expect("empty");
    let init_token = ok(data_dir.path(), &["init"], &password)
        .lines()
        .last()
        .expect("token line")
        .trim()
        .to_owned();
    let root_token = {
        let out = ok(data_dir.path(), &["token", "issue", "admin"], &[]);
        out.lines().last().expect("token").trim().to_owned()
    };
    let server = TestServer::start(&data_dir, &[]);
    let remote = ["--server", server.base.as_str()];
    // `--server` follows the command it configures: `user --server URL add …`.
    let user = |args: &[&'static str]| -> Vec<String> {
        ["user", remote[0], remote[1]]
            .iter()
            .chain(args)
            .map(|arg| (*arg).to_owned())
            .collect()
    };
    let env = [("ITINERA_ADMIN_TOKEN", root_token.as_str())];

    // While the server runs, the command line refuses the store and names the way around.
    let offline = refused(data_dir.path(), &["user", "list"], &[]);
    assert!(offline.contains("--server"), "{offline}");

    let add = user(&["add", "ana", "--role", "sales"]);
    ok(data_dir.path(), &strs(&add), &env);
    let set_password = user(&["set-password", "ana"]);
    ok(
        data_dir.path(),
        &strs(&set_password),
        &[env[0], ("ITINERA_USER_PASSWORD", "ana-pw")],
    );
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/login", server.base),
        None,
        Some(r#"{"user":"ana","password":"ana-pw"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let ana: serde_json::Value = serde_json::from_str(&body).expect("json");
    let ana = ana["token"].as_str().expect("token").to_owned();
    let me = |token: &str| http_get(&format!("{}/api/v1/me", server.base), Some(token));
    assert_eq!(me(&ana).0, 200);

    let role = user(&["set-role", "ana", "office"]);
    ok(data_dir.path(), &strs(&role), &env);
    let me_now: serde_json::Value = serde_json::from_str(&me(&ana).1).expect("json");
    assert_eq!(me_now["role"], "office");
    let disable = user(&["disable", "ana"]);
    ok(data_dir.path(), &strs(&disable), &env);
    assert_eq!(me(&ana).0, 401);
    let enable = user(&["enable", "ana"]);
    ok(data_dir.path(), &strs(&enable), &env);
    assert_eq!(me(&ana).0, 200);
    let list = ok(data_dir.path(), &strs(&user(&["list"])), &env);
    assert!(list.contains("ana") && list.contains("office"), "{list}");

    // The first admin's token from init works too, and the audit trail names every change.
    let (status, body) = http_get(&format!("{}/api/v1/audit", server.base), Some(&init_token));
    assert_eq!(status, 200, "{body}");
    let entries: Vec<serde_json::Value> = serde_json::from_str(&body).expect("json");
    let actions: Vec<&str> = entries
        .iter()
        .filter(|e| e["target"] == "ana")
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        [
            "user.enable",
            "user.disable",
            "user.role",
            "user.password",
            "user.add"
        ]
    );
    assert!(!body.contains("ana-pw"));
    let (status, _) = http_get(&format!("{}/api/v1/audit", server.base), Some(&ana));
    assert_eq!(status, 403, "the audit trail is for admins");
}

/// A device that writes changes one after another until told to stop, keeping the time each
/// change was seen acknowledged.
fn writer(
    url: String,
    token: String,
    index: u16,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<(Instant, DocumentId, ChangeHash)>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut device = Device::connect(&url, &token, &format!("backup-writer-{index}"))
            .expect("device connects");
        let id = doc_id(index);
        let mut doc = AutoCommit::new().with_actor(ActorId::from([index as u8 + 1; 16]));
        doc.put(ROOT, "title", format!("document {index}"))
            .expect("put");
        doc.commit();
        device.node.insert(id, doc);
        let mut round = 0u64;
        while !stop.load(Ordering::Relaxed) {
            round += 1;
            let hash = device.node.change(&id, |doc| {
                doc.put(ROOT, format!("k{}", round % 50), "x".repeat(2_000))
                    .expect("put");
                doc.get_last_local_change().map(|change| change.hash())
            });
            let Some(Some(hash)) = hash else {
                panic!("device {index} could not change its document");
            };
            assert!(
                device.run_until(WAIT, |d| d.acknowledged(&id)),
                "device {index}: a change was not acknowledged"
            );
            acknowledged
                .lock()
                .expect("lock")
                .push((Instant::now(), id, hash));
        }
    })
}

#[test]
fn a_backup_taken_under_a_write_load_restores_every_change_acknowledged_before_it() {
    let data = DataDir::new("backup-load");
    let admin = user_with_token(&data, "root", "admin", &[]);
    let office = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..3)
        .map(|index| {
            writer(
                server.sync_url(),
                office.clone(),
                index,
                stop.clone(),
                acknowledged.clone(),
            )
        })
        .collect();
    let deadline = Instant::now() + WAIT;
    while acknowledged.lock().expect("lock").len() < 60 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }

    let backup_file = data.path().join("under-load.bak");
    let began = Instant::now();
    let out = ok(
        data.path(),
        &[
            "backup",
            backup_file.to_str().expect("utf-8"),
            "--server",
            &server.base,
        ],
        &[("ITINERA_ADMIN_TOKEN", admin.as_str())],
    );
    let ended = Instant::now();
    assert!(out.contains("backed up"), "{out}");
    // Writes go on after the backup: the load ran across it.
    let after = |at: Instant| {
        acknowledged
            .lock()
            .expect("lock")
            .iter()
            .filter(|(when, ..)| *when > at)
            .count()
    };
    let deadline = Instant::now() + WAIT;
    while after(ended) < 10 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().expect("writer thread");
    }
    assert!(after(ended) >= 10, "the writers stopped during the backup");
    let before: Vec<(DocumentId, ChangeHash)> = acknowledged
        .lock()
        .expect("lock")
        .iter()
        .filter(|(when, ..)| *when < began)
        .map(|(_, id, hash)| (*id, *hash))
        .collect();
    assert!(
        before.len() >= 60,
        "{} changes before the backup",
        before.len()
    );

    let restored = DataDir::new("backup-restored");
    let out = ok(
        restored.path(),
        &["restore", backup_file.to_str().expect("utf-8")],
        &[],
    );
    assert!(out.contains("restored"), "{out}");
    let check = cli(&restored, &["check"]);
    assert!(check.contains(", 0 broken"), "{check}");
    let export = restored.path().join("export");
    cli(&restored, &["export", export.to_str().expect("utf-8")]);
    let mut missing = 0;
    for (id, hash) in &before {
        let bytes = std::fs::read(export.join(format!("documents/{id}.automerge"))).expect("file");
        let mut doc = AutoCommit::load(&bytes).expect("loads");
        if doc.get_change_by_hash(hash).is_none() {
            missing += 1;
        }
    }
    assert_eq!(
        missing,
        0,
        "of {} changes acknowledged before the backup began",
        before.len()
    );

    // A restore refuses the store of a running server, even with --force.
    let held = refused(
        data.path(),
        &["restore", backup_file.to_str().expect("utf-8"), "--force"],
        &[],
    );
    assert!(held.contains("running server"), "{held}");
    // And a backup never overwrites another.
    let again = refused(
        data.path(),
        &["backup", backup_file.to_str().expect("utf-8")],
        &[],
    );
    assert!(again.contains("exists"), "{again}");
}

/// A copy of the store the first release wrote (layout 1) in a new data folder.
fn layout_1_store(name: &str) -> DataDir {
    let data = DataDir::new(name);
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/layout-1-demo.redb");
    std::fs::copy(fixture, data.path().join("itinera.redb")).expect("copy the fixture");
    data
}

const FIXTURE_TOKEN: &str = "itn_HqTFTVgdjQNf3ueUfTW22oJjyZfBhgpbMx4wV1VqTfZA";

#[test]
fn a_store_of_the_previous_layout_is_upgraded_with_everything_in_it() {
    let data = layout_1_store("upgrade");
    let check = cli(&data, &["check", "--list"]);
    assert!(check.contains("19 documents checked, 0 broken"), "{check}");
    assert!(check.contains("store layout 5"), "{check}");
    assert!(check.contains("layout 2: keep a history"), "{check}");
    assert!(
        check.contains("layout 3: document metadata format 2"),
        "{check}"
    );
    assert!(check.contains("layout 4: the change sequence"), "{check}");
    assert!(
        check.contains("layout 5: each document's number in the change sequence"),
        "{check}"
    );

    let server = TestServer::start(&data, &[]);
    assert_eq!(readyz_until(&server, 200).0, 200);
    // The token and the password stored by the old release still work.
    let (status, me) = http_get(&format!("{}/api/v1/me", server.base), Some(FIXTURE_TOKEN));
    assert_eq!(status, 200, "{me}");
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/login", server.base),
        None,
        Some(r#"{"user":"olga","password":"olga-password"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let (status, accounts) = http_get(
        &format!("{}/api/v1/records?kind=account", server.base),
        Some(FIXTURE_TOKEN),
    );
    assert_eq!(status, 200);
    let accounts: Vec<serde_json::Value> = serde_json::from_str(&accounts).expect("json");
    assert!(!accounts.is_empty(), "the demo's accounts are there");
}

#[test]
fn an_older_build_refuses_a_newer_layout_with_a_clear_message() {
    let newer = itinera_core::store::LAYOUT + 1;
    // A store file a later build wrote: its layout is past this build's.
    let data = DataDir::new("newer-store");
    let table: redb::TableDefinition<'static, &'static str, u64> =
        redb::TableDefinition::new("store_info");
    let database = redb::Database::create(data.path().join("itinera.redb")).expect("create");
    let write = database.begin_write().expect("write");
    write
        .open_table(table)
        .expect("table")
        .insert("layout", newer)
        .expect("insert");
    write.commit().expect("commit");
    drop(database);
    let error = refused(data.path(), &["check"], &[]);
    assert!(
        error.contains(&format!("layout {newer}")) && error.contains("newer Itinera"),
        "{error}"
    );

    // A backup a later build took: refused at restore the same way, leaving nothing behind.
    let mut stream = Vec::new();
    itinera_core::store::RedbStore::in_memory()
        .expect("store")
        .backup(&mut stream)
        .expect("backup");
    // The layout is the u64 after the 16-byte magic and the u32 format.
    stream[20..28].copy_from_slice(&newer.to_be_bytes());
    let backup = data.path().join("newer.bak");
    std::fs::write(&backup, &stream).expect("write");
    let target = DataDir::new("newer-restore");
    let error = refused(
        target.path(),
        &["restore", backup.to_str().expect("utf-8")],
        &[],
    );
    assert!(error.contains("newer Itinera"), "{error}");
    assert!(!target.path().join("itinera.redb").exists());
}

#[test]
fn an_export_imported_into_an_empty_folder_gives_the_same_documents_and_users() {
    let source = layout_1_store("export-source");
    let first = source.path().join("first-export");
    let out = cli(&source, &["export", first.to_str().expect("utf-8")]);
    assert!(out.contains("exported 19 documents"), "{out}");

    let target = DataDir::new("export-target");
    std::fs::remove_dir_all(target.path()).expect("empty");
    let out = ok(
        target.path(),
        &["import", first.to_str().expect("utf-8")],
        &[],
    );
    assert!(out.contains("imported 19 documents"), "{out}");
    let check = cli(&target, &["check"]);
    assert!(check.contains("19 documents checked, 0 broken"), "{check}");
    let second = target.path().join("second-export");
    cli(&target, &["export", second.to_str().expect("utf-8")]);
    let (a, b) = (exported_heads(&first), exported_heads(&second));
    assert_eq!(a.len(), 19);
    assert_eq!(a, b, "the same documents at the same heads");
    assert_eq!(
        cli(&source, &["user", "list"]),
        cli(&target, &["user", "list"])
    );

    // An import refuses a folder that already holds data.
    let again = refused(
        target.path(),
        &["import", first.to_str().expect("utf-8")],
        &[],
    );
    assert!(again.contains("not empty"), "{again}");
    // The imported folder serves: the old token (only its hash travelled) still works.
    let server = TestServer::start(&target, &[]);
    let (status, _) = http_get(&format!("{}/api/v1/me", server.base), Some(FIXTURE_TOKEN));
    assert_eq!(status, 200);
}

#[test]
fn json_logs_parse_line_by_line_and_never_hold_a_token() {
    let data = DataDir::new("json-logs");
    let token = user_with_token(&data, "olga", "office", &[]);
    let mut server = TestServer::start(&data, &["--log-format", "json"]);
    let (status, _) = http_get(&format!("{}/api/v1/me?token={token}", server.base), None);
    assert_eq!(status, 200);
    // The web app answers every other path (its own routes); the API says what it lacks.
    http_get(&format!("{}/api/v1/no/such/route", server.base), None);
    assert!(server.terminate().success());
    let log = server.log();
    let mut access = Vec::new();
    // Blank lines carry nothing (log shippers skip them); every other line is one JSON event.
    for line in log.lines().filter(|line| !line.trim().is_empty()) {
        let event: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("a log line is not JSON ({err}): {line}"));
        assert!(
            event["level"].is_string() && event["timestamp"].is_string(),
            "{line}"
        );
        if event["target"] == "itinera_server::access" {
            access.push(event);
        }
    }
    let me = access
        .iter()
        .find(|event| event["path"] == "/api/v1/me")
        .expect("the request is in the access log");
    assert_eq!(me["method"], "GET");
    assert_eq!(me["status"], 200);
    assert!(
        me["duration_ms"].is_number() && me["bytes"].is_number(),
        "{me}"
    );
    assert!(access.iter().any(|event| event["status"] == 404));
    assert!(!log.contains(&token), "a token reached the log");

    // Text logs into a file carry no colour codes, and a filter keeps INFO out.
    let mut quiet = TestServer::start(&data, &["--log", "warn"]);
    http_get(&format!("{}/healthz", quiet.base), None);
    assert!(quiet.terminate().success());
    let text = quiet.log();
    assert!(!text.contains('\u{1b}'), "colour codes in a file: {text}");
    assert!(!text.contains(" INFO "), "{text}");
}

#[test]
fn readyz_fails_while_the_disk_is_full_and_recovers_by_itself() {
    let data = DataDir::on_tmpfs("readyz-full", 40 * 1024 * 1024);
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let (status, body) = readyz_until(&server, 200);
    assert_eq!(status, 200, "{body}");
    assert_eq!(http_get(&format!("{}/healthz", server.base), None).0, 200);

    let mut writer = Device::connect(&server.sync_url(), &olga, "readyz-writer").expect("connect");
    let id = doc_id(7);
    let mut doc = AutoCommit::new().with_actor(ActorId::from([7; 16]));
    doc.put(ROOT, "title", "before the disk filled")
        .expect("put");
    doc.commit();
    writer.node.insert(id, doc);
    assert!(writer.run_until(WAIT, |d| d.acknowledged(&id)));

    let filler = fill_disk(data.path());
    let big: String = (0..3 * 1024 * 1024u64)
        .map(|i| char::from(b'a' + (i * 7919 % 26) as u8))
        .collect();
    writer.node.change(&id, |doc| {
        doc.put(ROOT, "attachment", big.as_str()).expect("put")
    });
    assert!(
        writer.run_until(WAIT, |d| !d.errors.is_empty()),
        "the write was not refused"
    );
    let (status, body) = http_get(&format!("{}/readyz", server.base), None);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("cannot commit"), "{body}");
    // Liveness is another question: the process answers.
    assert_eq!(http_get(&format!("{}/healthz", server.base), None).0, 200);
    assert_eq!(server.metric("itinera_store_writable"), Some(0.0));

    std::fs::remove_file(&filler).expect("free the disk");
    let (status, body) = readyz_until(&server, 200);
    assert_eq!(status, 200, "{body}");
    assert!(writer.run_until(WAIT, |d| d.acknowledged(&id)));
    assert_eq!(server.metric("itinera_store_writable"), Some(1.0));
}

/// Writes a file into `dir` until the file system is full; returns its path.
fn fill_disk(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler file");
    for chunk in [1024 * 1024, 4096, 64] {
        let block = vec![0x5au8; chunk];
        loop {
            match file.write_all(&block).and_then(|()| file.sync_all()) {
                Ok(()) => {}
                Err(err) if err.raw_os_error() == Some(28) => break, // ENOSPC
                Err(err) => panic!("filling the disk failed otherwise: {err}"),
            }
        }
    }
    path
}

#[test]
fn settings_come_from_flags_then_environment_then_the_config_file() {
    let root = DataDir::new("config");
    let (from_file, from_env, from_flag) = (
        root.path().join("file-data"),
        root.path().join("env-data"),
        root.path().join("flag-data"),
    );
    for (folder, user) in [
        (&from_file, "filed"),
        (&from_env, "envy"),
        (&from_flag, "flagged"),
    ] {
        ok(folder, &["user", "add", user, "--role", "guide"], &[]);
    }
    let config = root.path().join("itinera.toml");
    std::fs::write(
        &config,
        format!(
            "data = {:?}\nlog_format = \"json\"\n[serve]\nworkers = 1\n",
            from_file.display().to_string()
        ),
    )
    .expect("config");
    let users = |env: &[(&str, &str)], flag: Option<&Path>| {
        let mut command = Command::new(binary());
        command.arg("--config").arg(&config);
        if let Some(flag) = flag {
            command.arg("--data").arg(flag);
        }
        command.args(["user", "list"]).env_remove("ITINERA_DATA");
        for (key, value) in env {
            command.env(key, value);
        }
        let output = command.output().expect("runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(users(&[], None).contains("filed"));
    let env = [("ITINERA_DATA", from_env.to_str().expect("utf-8"))];
    assert!(users(&env, None).contains("envy"));
    assert!(users(&env, Some(&from_flag)).contains("flagged"));

    std::fs::write(&config, "lisen = \"127.0.0.1:1\"\n").expect("config");
    let typo = refused(
        root.path(),
        &["--config", config.to_str().expect("utf-8"), "user", "list"],
        &[],
    );
    assert!(typo.contains("lisen"), "{typo}");

    // The company's conventions come from the file's [company] table too: a zone that does not
    // exist stops the server with its name, and the flag beats the file.
    std::fs::write(
        &config,
        "[company]\ntime_zone = \"Mars/Olympus\"\nphone_region = \"HU\"\n",
    )
    .expect("config");
    let config = config.to_str().expect("utf-8");
    let stopped = refused(
        &from_file,
        &["--config", config, "serve", "--listen", "127.0.0.1:0"],
        &[],
    );
    assert!(stopped.contains("Mars/Olympus"), "{stopped}");
    let stopped = refused(
        &from_file,
        &[
            "--config",
            config,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--time-zone",
            "Venus/Maxwell",
        ],
        &[],
    );
    assert!(
        stopped.contains("Venus/Maxwell") && !stopped.contains("Mars"),
        "{stopped}"
    );
}

/// The shipped example config file parses and holds only keys the server knows.
#[test]
fn the_example_config_file_is_understood() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/itinera.toml");
    let root = DataDir::new("config-example");
    // `check` reads the whole file (an unknown key anywhere is refused) and needs no server.
    ok(
        root.path(),
        &["user", "add", "olga", "--role", "office"],
        &[],
    );
    let checked = ok(
        root.path(),
        &["--config", example.to_str().expect("utf-8"), "check"],
        &[],
    );
    assert!(!checked.contains("invalid"), "{checked}");
    let mut broken = std::fs::read_to_string(&example).expect("example");
    broken.push_str("holiday_region = \"HU\"\n");
    let broken_file = root.path().join("broken.toml");
    std::fs::write(&broken_file, broken).expect("write");
    let refusal = refused(
        root.path(),
        &["--config", broken_file.to_str().expect("utf-8"), "check"],
        &[],
    );
    assert!(refusal.contains("holiday_region"), "{refusal}");
}
