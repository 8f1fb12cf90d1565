//! `itinera-server import-csv accounts|leads FILE.csv`: a CSV import into a running server through
//! its REST API, with a progress bar on the terminal.
//!
//! It always checks the file first (the server's dry run) and lists every bad row with its line
//! and reason; with `--dry-run` it stops there. Otherwise it starts the import and follows its
//! progress. `--map field=Column` maps a column to a field (repeatable); without it the server
//! matches the usual header names.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value as Json, json};

/// What the command was given.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// What the file holds: accounts (one row per contact) or leads.
    #[arg(value_parser = ["accounts", "leads"])]
    kind: String,
    /// The CSV file.
    file: PathBuf,
    /// Which column feeds a field: `--map name="Account Name"` (repeatable).
    #[arg(long = "map", value_parser = parse_mapping)]
    mappings: Vec<(String, String)>,
    /// Only check the file: list what would be created, changed or left out.
    #[arg(long)]
    dry_run: bool,
    /// The running server.
    #[arg(long, env = "ITINERA_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// A token of the importing user (`itinera-server token issue NAME`).
    #[arg(long, env = "ITINERA_TOKEN", hide_env_values = true)]
    token: String,
}

fn parse_mapping(text: &str) -> Result<(String, String), String> {
    let (field, column) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not field=Column"))?;
    Ok((field.trim().to_owned(), column.trim().to_owned()))
}

struct Client {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl Client {
    fn call(&self, method: &str, path: &str, body: Option<&Json>) -> Result<(u16, Json), String> {
        let url = format!("{}/api/v1{path}", self.base.trim_end_matches('/'));
        let authorization = format!("Bearer {}", self.token);
        let sent = match body {
            Some(body) => self
                .agent
                .post(&url)
                .header("Authorization", &authorization)
                .send_json(body),
            None if method == "GET" => self
                .agent
                .get(&url)
                .header("Authorization", &authorization)
                .call(),
            None => return Err(format!("{method} without a body is not used")),
        };
        let mut response = sent.map_err(|err| format!("{url}: {err}"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|err| format!("{url}: {err}"))?;
        let json: Json = serde_json::from_str(&text).unwrap_or(Json::String(text));
        if !(200..300).contains(&status) {
            let message = json["error"]
                .as_str()
                .map_or_else(|| json.to_string(), str::to_owned);
            return Err(format!("the server refused ({status}): {message}"));
        }
        Ok((status, json))
    }
}

/// Runs the command.
#[allow(clippy::print_stdout)]
pub fn run(args: ImportArgs) -> Result<(), String> {
    let csv = std::fs::read_to_string(&args.file)
        .map_err(|err| format!("cannot read {}: {err}", args.file.display()))?;
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build();
    let client = Client {
        agent: ureq::Agent::new_with_config(config),
        base: args.server.clone(),
        token: args.token.clone(),
    };
    let mapping: Option<BTreeMap<String, String>> =
        (!args.mappings.is_empty()).then(|| args.mappings.iter().cloned().collect());
    let path = format!("/imports/{}", args.kind);
    let (_, check) = client.call(
        "POST",
        &path,
        Some(&json!({ "csv": csv, "mapping": mapping, "dry_run": true })),
    )?;
    println!(
        "{} rows, {} records: {} new, {} changed, {} unchanged, {} rows left out",
        check["rows"],
        check["records"],
        check["create"],
        check["update"],
        check["unchanged"],
        check["bad_rows"].as_array().map_or(0, Vec::len)
    );
    print_bad_rows(&check["bad_rows"]);
    if args.dry_run {
        return Ok(());
    }
    let (_, started) = client.call(
        "POST",
        &path,
        Some(&json!({ "csv": csv, "mapping": check["mapping"] })),
    )?;
    let job = started["job"].as_u64().ok_or("the server started no job")?;
    let bar = ProgressBar::new(started["total"].as_u64().unwrap_or(0));
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} records, {per_sec}, {eta} left")
            .map_err(|err| err.to_string())?,
    );
    let progress = loop {
        let (_, progress) = client.call("GET", &format!("/imports/jobs/{job}"), None)?;
        bar.set_position(progress["done"].as_u64().unwrap_or(0));
        if progress["finished"] == true {
            break progress;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    bar.finish();
    println!(
        "imported in {} ms: {} new, {} changed, {} unchanged, {} left out",
        progress["elapsed_ms"],
        progress["created"],
        progress["updated"],
        progress["unchanged"],
        progress["failed"].as_array().map_or(0, Vec::len)
    );
    print_bad_rows(&progress["failed"]);
    Ok(())
}

#[allow(clippy::print_stdout)]
fn print_bad_rows(rows: &Json) {
    for row in rows.as_array().into_iter().flatten() {
        println!(
            "  line {}: {}",
            row["line"],
            row["reason"].as_str().unwrap_or_default()
        );
    }
}
