//! The head-office web app and the HTTP it stands on: the browser scenario in headless Chromium
//! (`tests/web/e2e.mjs`, driving a Python SDK phone through `tests/web/device.py`), the CSV
//! import command against a running server, and the event feed's access rules.
//!
//! `tests/run.sh` installs Debian's `chromium` and the npm `playwright-core` from
//! `tests/web/package-lock.json`; a test run without them fails saying so.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use itinera_tests::server::{DataDir, TestServer, binary, http, http_get, user_with_token};

fn web_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// The demo's tokens, from the lines `serve --demo` printed: `  sam      sales   itn_…`.
fn demo_tokens(server: &TestServer) -> BTreeMap<String, String> {
    server
        .banner
        .iter()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [user, _role, token] if token.starts_with("itn_") => {
                    Some(((*user).to_owned(), (*token).to_owned()))
                }
                _ => None,
            }
        })
        .collect()
}

/// The id of the one account a search finds.
fn account_id(server: &TestServer, token: &str, search: &str) -> String {
    let (status, body) = http_get(
        &format!("{}/api/v1/lists/accounts?q={search}", server.base),
        Some(token),
    );
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(page["total"], 1, "{search}: {body}");
    page["items"][0]["id"].as_str().expect("an id").to_owned()
}

#[test]
fn the_head_office_app_works_end_to_end_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join("target/python-venv/bin/python");
    assert!(
        python.exists(),
        "the Python wheel is not built: run `bash mobile/python/build.sh` (tests/run.sh does)"
    );
    let chromium = std::env::var("ITINERA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium (tests/run.sh does)"
    );
    assert!(
        web_tests_dir()
            .join("node_modules/playwright-core/package.json")
            .exists(),
        "playwright-core is missing: npm install in tests/web (tests/run.sh does)"
    );
    let data = DataDir::new("web-app");
    let server = TestServer::start(&data, &["--demo"]);
    let tokens = demo_tokens(&server);
    let lakeside = account_id(&server, &tokens["olga"], "lakeside");
    let harbour = account_id(&server, &tokens["olga"], "harbour");
    let work = data.path().join("devices");
    std::fs::create_dir_all(&work).expect("work folder");
    let output = Command::new("node")
        .arg("e2e.mjs")
        .current_dir(web_tests_dir())
        .env("ITINERA_BASE", &server.base)
        .env("ITINERA_SCREENSHOTS", web_tests_dir().join("screenshots"))
        .env("ITINERA_CHROMIUM", &chromium)
        .env("ITINERA_LAKESIDE", &lakeside)
        .env("ITINERA_HARBOUR", &harbour)
        .env("ITINERA_SYNC_URL", server.sync_url())
        .env("ITINERA_DEVICE_USER", "sam")
        .env("ITINERA_DEVICE_TOKEN", &tokens["sam"])
        .env("ITINERA_WORKDIR", &work)
        // The phone is the installed wheel, run by the virtual environment's Python.
        .env("ITINERA_PYTHON", &python)
        .env_remove("PYTHONPATH")
        .output()
        .expect("node runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The scenario's steps and figures, shown with --nocapture.
    eprintln!("{report}");
    assert!(
        output.status.success(),
        "the browser scenario failed:\n{report}\nserver log:\n{}",
        server.log()
    );
    assert!(report.contains("figures {"), "{report}");
}

fn import(server: &TestServer, token: &str, file: &Path, extra: &[&str]) -> String {
    let output = Command::new(binary())
        .args(["import-csv", "accounts"])
        .arg(file)
        .args(["--server", &server.base, "--token", token])
        .args(extra)
        .output()
        .expect("itinera-server runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "import failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn the_import_command_lists_bad_rows_imports_the_rest_and_imports_once() {
    let data = DataDir::new("import-command");
    let office = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    // A spreadsheet in Hungarian: the headers match no usual name, so every column is mapped.
    let file = data.path().join("ugyfelek.csv");
    std::fs::write(
        &file,
        "Azonosító;Cégnév;Felelős;Város;Kapcsolattartó e-mail\n\
         U-1;Budai Iskola;sam;Budapest;anna@budai.example\n\
         U-2;Pécsi Kórus;nincs-ilyen;Pécs;\n\
         U-3;Soproni Kör;;Sopron;bela@sopron.example\n"
            .replace(';', ","),
    )
    .expect("write the file");
    let map = [
        "--map",
        "external_ref=Azonosító",
        "--map",
        "name=Cégnév",
        "--map",
        "owner=Felelős",
        "--map",
        "address.city=Város",
        "--map",
        "contact.email=Kapcsolattartó e-mail",
    ];
    let checked = import(
        &server,
        &office,
        &file,
        &[&map[..], &["--dry-run"]].concat(),
    );
    assert!(checked.contains("3 rows, 2 records: 2 new"), "{checked}");
    assert!(
        checked.contains("line 3: the owner \"nincs-ilyen\" is not a user"),
        "{checked}"
    );
    let list = |q: &str| -> serde_json::Value {
        let (status, body) = http_get(
            &format!("{}/api/v1/lists/accounts?q={q}", server.base),
            Some(&office),
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    };
    assert_eq!(list("")["total"], 0, "a dry run writes nothing");

    let office_events = listen(&server.base, &office);
    let first = import(&server, &office, &file, &map);
    assert!(
        first.contains("2 new, 0 changed, 0 unchanged, 1 left out"),
        "{first}"
    );
    // The lists take in the import's committed events as they come, a moment after the job
    // reported its end.
    server.eventually("the imported account is listed", || {
        list("budai")["total"] == 1
    });
    let budai = list("budai");
    // A new record's committed event reaches every subscriber of the bus: the lists above, the
    // event stream of an open page, and the owner's index (what the owner's phones sync).
    let budai_id = budai["items"][0]["id"].as_str().expect("an id").to_owned();
    let heard = heard_until(&office_events, &budai_id, Duration::from_secs(10));
    assert!(
        heard.iter().any(|line| line.contains(&budai_id)),
        "{heard:?}"
    );
    assert!(
        index_lists(&server, &sam, &budai_id),
        "sam's index never listed the imported account"
    );
    assert_eq!(budai["items"][0]["owner"], "sam");
    assert_eq!(budai["items"][0]["city"], "Budapest");
    assert_eq!(budai["items"][0]["contacts"], 1);
    assert_eq!(
        list("anna@budai.example")["total"],
        1,
        "contacts are searchable"
    );

    let again = import(&server, &office, &file, &map);
    assert!(
        again.contains("0 new, 0 changed, 2 unchanged, 1 left out"),
        "{again}"
    );
    assert_eq!(list("")["total"], 2);

    let renamed = std::fs::read_to_string(&file)
        .expect("read")
        .replace("Soproni Kör", "Soproni Borbarát Kör");
    std::fs::write(&file, renamed).expect("write");
    let changed = import(&server, &office, &file, &map);
    assert!(
        changed.contains("0 new, 1 changed, 1 unchanged, 1 left out"),
        "{changed}"
    );
    server.eventually("the renamed account is listed under its new name", || {
        list("borbar%C3%A1t")["total"] == 1
    });
    assert_eq!(list("")["total"], 2);
}

/// Whether `user`'s index document comes to list `document` within ten seconds.
fn index_lists(server: &TestServer, token: &str, document: &str) -> bool {
    let (status, me) = http_get(&format!("{}/api/v1/me", server.base), Some(token));
    assert_eq!(status, 200, "{me}");
    let me: serde_json::Value = serde_json::from_str(&me).expect("JSON");
    let index = me["index_document"]
        .as_str()
        .and_then(|url| url.strip_prefix("automerge:"))
        .expect("an index URL")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let (status, body) = http_get(
            &format!("{}/api/v1/documents/{index}", server.base),
            Some(token),
        );
        if status == 200 && body.contains(document) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn an_import_takes_a_larger_body_than_other_routes_from_a_signed_in_user_only() {
    let data = DataDir::new("import-body");
    let office = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    // About 2 MB of leads: over the 1 MiB every other body is held to.
    let mut csv = String::from("Lead ID,Full Name,Email\n");
    for n in 0..40_000 {
        csv.push_str(&format!(
            "L-{n:06},Lead Number {n:06},lead{n}@example.test\n"
        ));
    }
    let body = serde_json::json!({ "csv": csv, "dry_run": true }).to_string();
    assert!(body.len() > 3 * 1024 * 1024 / 2, "{}", body.len());
    let imports = format!("{}/api/v1/imports/leads", server.base);
    let (status, answer) = http("POST", &imports, Some(&office), Some(&body));
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(answer["create"], 40_000);
    let (status, _) = http("POST", &imports, None, Some(&body));
    assert_eq!(status, 401, "no body is read without a token");
    let (status, answer) = http(
        "POST",
        &format!("{}/api/v1/records/lead", server.base),
        Some(&office),
        Some(&body),
    );
    assert_eq!(status, 413, "{answer}");

    // A rep gives records to themselves only, and learns nothing of who else exists.
    let csv = "Account ID,Account Name,Account Owner\nA-1,Own,sam\nA-2,Colleague's,olga\nA-3,Nobody's,nobody\n";
    let body = serde_json::json!({ "csv": csv, "dry_run": true }).to_string();
    let accounts = format!("{}/api/v1/imports/accounts", server.base);
    let (status, answer) = http("POST", &accounts, Some(&sam), Some(&body));
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(answer["create"], 1, "{answer}");
    let reasons: Vec<String> = answer["bad_rows"]
        .as_array()
        .expect("bad rows")
        .iter()
        .map(|row| {
            row["reason"]
                .as_str()
                .unwrap_or_default()
                .replace("olga", "nobody")
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{answer}");
    assert_eq!(
        reasons[0], reasons[1],
        "a known and an unknown user read alike"
    );
}

/// Reads server-sent events from `/api/v1/events` on a thread of its own.
fn listen(base: &str, token: &str) -> std::sync::mpsc::Receiver<String> {
    let host = base.strip_prefix("http://").expect("http").to_owned();
    let mut stream = std::net::TcpStream::connect(&host).expect("connect");
    write!(
        stream,
        "GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .expect("send");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let event = line.starts_with("event:") || line.starts_with("data:");
            if event && sender.send(line).is_err() {
                return;
            }
        }
    });
    receiver
}

/// Lines heard until `until` matches one, or the deadline.
fn heard_until(
    events: &std::sync::mpsc::Receiver<String>,
    until: &str,
    within: Duration,
) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut lines = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match events.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains(until);
                lines.push(line);
                if done {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    lines
}

#[test]
fn the_event_feed_tells_each_user_of_the_documents_they_may_read() {
    let data = DataDir::new("events");
    let office = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let sofia = user_with_token(&data, "sofia", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    let office_events = listen(&server.base, &office);
    let sam_events = listen(&server.base, &sam);
    for events in [&office_events, &sam_events] {
        let ready = heard_until(events, "event: ready", Duration::from_secs(10));
        assert!(ready.iter().any(|l| l == "event: ready"), "{ready:?}");
    }
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/records/account", server.base),
        Some(&sofia),
        Some(r#"{"name": "Harbour Travel", "owner": "sofia"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let id = created["id"]
        .as_str()
        .expect("id")
        .trim_start_matches("automerge:")
        .to_owned();
    let heard = heard_until(&office_events, &id, Duration::from_secs(10));
    assert!(
        heard
            .iter()
            .any(|l| l.contains(&id) && l.contains("\"kind\":\"account\"")),
        "office hears of the new account: {heard:?}"
    );
    // Sam may not read Sofia's account: his feed stays silent about it, while a change of his
    // own is heard.
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/records/account", server.base),
        Some(&sam),
        Some(r#"{"name": "Lakeside Schools", "owner": "sam"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let own = serde_json::from_str::<serde_json::Value>(&body).expect("JSON")["id"]
        .as_str()
        .expect("id")
        .trim_start_matches("automerge:")
        .to_owned();
    let heard = heard_until(&sam_events, &own, Duration::from_secs(10));
    assert!(heard.iter().any(|l| l.contains(&own)), "{heard:?}");
    assert!(
        !heard.iter().any(|l| l.contains(&id)),
        "sam heard of sofia's account: {heard:?}"
    );
    // Handing the account to Sam: he hears of it now.
    let (status, body) = http(
        "PATCH",
        &format!("{}/api/v1/documents/{id}", server.base),
        Some(&office),
        Some(r#"{"owner": "sam"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let heard = heard_until(&sam_events, &id, Duration::from_secs(10));
    assert!(heard.iter().any(|l| l.contains(&id)), "{heard:?}");
}

/// The `read=` figure of the server's "lists built" log line: documents it had to read.
fn documents_read(log: &str) -> Option<u64> {
    let line = log
        .lines()
        .rev()
        .find(|line| line.contains("lists built"))?;
    // The log is coloured: drop the escape sequences (ESC … m).
    let mut plain = String::new();
    let mut in_escape = false;
    for c in line.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (false, c) => plain.push(c),
            (true, _) => {}
        }
    }
    plain
        .split_whitespace()
        .find_map(|word| word.strip_prefix("read="))?
        .parse()
        .ok()
}

#[test]
fn after_a_restart_the_lists_read_no_document_that_did_not_change() {
    let data = DataDir::new("lists-restart");
    let mut server = TestServer::start(&data, &["--demo"]);
    let tokens = demo_tokens(&server);
    let office = tokens["olga"].clone();
    let lakeside = account_id(&server, &office, "lakeside");
    let (status, body) = http(
        "PATCH",
        &format!("{}/api/v1/documents/{lakeside}", server.base),
        Some(&office),
        Some(r#"{"name": "Lakeside School Trust"}"#),
    );
    assert_eq!(status, 200, "{body}");
    // The renamed account's row is stored once the lists took the change in.
    let deadline = Instant::now() + Duration::from_secs(10);
    while account_id_opt(&server, &office, "trust").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let first = documents_read(&server.log()).expect("the first start logs its build");
    assert!(
        first > 10,
        "the first start reads every demo document: {first}"
    );
    assert!(server.terminate().success());
    let server = TestServer::start(&data, &[]);
    assert_eq!(account_id(&server, &office, "trust"), lakeside);
    assert_eq!(
        account_id(&server, &office, "harbour").len(),
        lakeside.len()
    );
    assert_eq!(documents_read(&server.log()), Some(0), "{}", server.log());
}

fn account_id_opt(server: &TestServer, token: &str, search: &str) -> Option<String> {
    let (_, body) = http_get(
        &format!("{}/api/v1/lists/accounts?q={search}", server.base),
        Some(token),
    );
    let page: serde_json::Value = serde_json::from_str(&body).ok()?;
    page["items"][0]["id"].as_str().map(str::to_owned)
}
