//! What a hostile signed-in user or an outsider costs the server, measured from outside:
//!
//! - memory after one socket asks for 50,000 random document ids (and keeps the socket open);
//! - `/healthz` latency while 64 clients send bad logins at once: first each from its own
//!   address (through `X-Forwarded-For`, when the server takes it), so every attempt is hashed,
//!   then all from one address, where the limits answer 429 without hashing.
//!
//! ```sh
//! cargo run --release -p itinera-bench -- attacks
//! cargo run --release -p itinera-bench -- attacks --server path/to/older/itinera-server
//! ```

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::client::{Client, Wire};
use crate::peers::Server;
use crate::report::{Figure, Outcome, Unit};

/// Random ids one socket asks for.
pub const RANDOM_IDS: usize = 50_000;
/// Clients sending bad logins at once, and attempts each.
pub const LOGIN_CLIENTS: usize = 64;
const LOGINS_EACH: usize = 4;

/// The user the logins are tried against, and its real password.
pub const USER: &str = "attacker";
pub const PASSWORD: &str = "correct horse battery staple";

pub async fn run(server: &mut Server, behind_proxy: bool) -> Result<Outcome, String> {
    let mut outcome = Outcome::default();
    random_ids(server, &mut outcome).await?;
    login_storm(server, &mut outcome, behind_proxy, true).await?;
    login_storm(server, &mut outcome, behind_proxy, false).await?;
    Ok(outcome)
}

async fn random_ids(server: &Server, outcome: &mut Outcome) -> Result<(), String> {
    let wire = Arc::new(Wire::default());
    let mut client = Client::connect(&server.url(), "hostile-device", wire).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    client.run_until(deadline, |c| c.joined).await;
    let before = server.rss_bytes();
    let started = Instant::now();
    for n in 0..RANDOM_IDS {
        client.find(crate::records::doc_id(0xbad, n as u32));
    }
    client.pump().await;
    let deadline = Instant::now() + Duration::from_secs(300);
    client
        .run_until(deadline, |c| {
            c.unavailable.len() >= RANDOM_IDS || !c.errors.is_empty()
        })
        .await;
    outcome.push(Figure::new(
        "random ids answered unavailable",
        Unit::Count,
        client.unavailable.len() as f64,
    ));
    outcome.push(Figure::new(
        "time to answer them",
        Unit::Seconds,
        started.elapsed().as_secs_f64(),
    ));
    outcome.push(Figure::new(
        "memory before the random ids",
        Unit::Bytes,
        before as f64,
    ));
    outcome.push(Figure::new(
        "memory after, socket still open",
        Unit::Bytes,
        server.rss_bytes() as f64,
    ));
    if let Some(error) = client.errors.first() {
        outcome.push(Figure::new(
            format!("refused with an error: {error}"),
            Unit::Count,
            1.0,
        ));
    }
    client.disconnect().await;
    Ok(())
}

async fn login_storm(
    server: &Server,
    outcome: &mut Outcome,
    behind_proxy: bool,
    spread: bool,
) -> Result<(), String> {
    let port = server.port;
    let label = if spread && behind_proxy {
        "64 addresses"
    } else if spread {
        "64 clients (one address: no X-Forwarded-For)"
    } else {
        "one address"
    };
    let storm = tokio::spawn(async move {
        let mut tasks = Vec::new();
        for client in 0..LOGIN_CLIENTS {
            tasks.push(tokio::spawn(async move {
                let mut statuses = Vec::new();
                for attempt in 0..LOGINS_EACH {
                    let forwarded = if spread {
                        format!(
                            "X-Forwarded-For: 10.{}.{}.{attempt}\r\n",
                            client / 250,
                            client % 250
                        )
                    } else {
                        String::new()
                    };
                    let name = if spread {
                        format!("{USER}{client}")
                    } else {
                        USER.to_owned()
                    };
                    let body = format!(r#"{{"user":"{name}","password":"wrong {attempt}"}}"#);
                    let status = request(port, "POST", "/api/v1/login", &forwarded, &body)
                        .await
                        .map(|(status, _)| status)
                        .unwrap_or(0);
                    statuses.push(status);
                }
                statuses
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.extend(task.await.unwrap_or_default());
        }
        statuses
    });
    let started = Instant::now();
    let mut latencies = Vec::new();
    while !storm.is_finished() {
        let asked = Instant::now();
        if request(port, "GET", "/healthz", "", "").await.is_ok() {
            latencies.push(asked.elapsed().as_secs_f64() * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let statuses = storm.await.map_err(|err| err.to_string())?;
    let took = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let count = |status: u16| statuses.iter().filter(|&&s| s == status).count() as f64;
    outcome.push(Figure::new(
        format!("logins from {label}: all answered in"),
        Unit::Seconds,
        took,
    ));
    outcome.push(Figure::new(
        format!("logins from {label}: 401"),
        Unit::Count,
        count(401),
    ));
    outcome.push(Figure::new(
        format!("logins from {label}: 429"),
        Unit::Count,
        count(429),
    ));
    outcome.push(Figure::new(
        format!("logins from {label}: /healthz p50"),
        Unit::Millis,
        at(0.5),
    ));
    outcome.push(Figure::new(
        format!("logins from {label}: /healthz max"),
        Unit::Millis,
        at(1.0),
    ));
    Ok(())
}

/// One HTTP/1.1 request on a fresh connection: the status and the body.
pub async fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|err| err.to_string())?;
    let text = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    stream
        .write_all(text.as_bytes())
        .await
        .map_err(|err| err.to_string())?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .map_err(|err| err.to_string())?;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or("no status line")?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}
