//! The sales force of the bench's workloads (the load run, h, and the seeding of the accounts
//! other workloads start from): sales reps grouped in territories, each rep with a token of his
//! own; and for the load run's end check an office user who reads everything. They are
//! created through the running server's admin REST API (`POST /api/v1/users`, then
//! `POST /api/v1/users/{name}/tokens`), as a company's admin would, by a few threads at once.
//!
//! ```ignore
//! let company = Company::create(&server.http_url(), server.token(), 5_000, 5)?;
//! let url = server.sync_url(&company.reps[0].token);
//! ```

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

/// Requests in flight while the company is created: enough to keep the store writer's batches
/// full, few enough that the server's two cores are not buried under connections.
const SET_UP_THREADS: usize = 8;

/// How long a token of the run lasts.
const TOKEN_TTL_SECONDS: i64 = 24 * 3600;

/// The office user the end check signs in as.
pub const CHECKER: &str = "load-office";

/// One sales rep.
#[derive(Debug, Clone)]
pub struct Rep {
    pub name: String,
    /// The territory he sells in (his `territory:NAME` grant, and his accounts' territory).
    pub territory: String,
    pub token: String,
}

/// The users of the load run.
#[derive(Debug)]
pub struct Company {
    /// Rep `r` sells in territory `r / reps_per_territory`.
    pub reps: Vec<Rep>,
    /// How long creating the users and tokens took.
    pub set_up: Duration,
}

/// The name of territory `t`.
pub fn territory(t: u32) -> String {
    format!("t{t}")
}

/// The name of rep `r`.
pub fn rep_name(r: u32) -> String {
    format!("rep{r}")
}

impl Company {
    /// Creates `reps` sales reps, `reps_per_territory` to a territory, and the office user, on
    /// the server at `base` (`http://host:port`) with the admin token `admin`.
    pub fn create(
        base: &str,
        admin: &str,
        reps: u32,
        reps_per_territory: u32,
    ) -> Result<Self, String> {
        let started = Instant::now();
        let api = Api::new(base, admin);
        let per_territory = reps_per_territory.max(1);
        let next = AtomicUsize::new(0);
        let made = Mutex::new(Vec::with_capacity(reps as usize));
        let failure = Mutex::new(None::<String>);
        std::thread::scope(|scope| {
            for _ in 0..SET_UP_THREADS {
                scope.spawn(|| {
                    loop {
                        let r = next.fetch_add(1, Ordering::Relaxed);
                        let Ok(r) = u32::try_from(r) else { break };
                        if r >= reps || failure.lock().is_ok_and(|f| f.is_some()) {
                            break;
                        }
                        let (name, territory) = (rep_name(r), territory(r / per_territory));
                        let grant = format!("territory:{territory}");
                        match api.add_user(&name, "sales", &[&grant]) {
                            Ok(token) => {
                                if let Ok(mut made) = made.lock() {
                                    made.push((
                                        r,
                                        Rep {
                                            name,
                                            territory,
                                            token,
                                        },
                                    ));
                                }
                            }
                            Err(why) => {
                                if let Ok(mut failure) = failure.lock() {
                                    failure.get_or_insert(why);
                                }
                            }
                        }
                    }
                });
            }
        });
        if let Some(why) = failure.into_inner().ok().flatten() {
            return Err(why);
        }
        let mut made = made.into_inner().map_err(|_| "a set-up thread panicked")?;
        made.sort_by_key(|(r, _)| *r);
        if made.len() != reps as usize {
            return Err(format!("{} of {reps} reps were created", made.len()));
        }
        Ok(Self {
            reps: made.into_iter().map(|(_, rep)| rep).collect(),
            set_up: started.elapsed(),
        })
    }
}

/// Adds the office user who reads everything ([`CHECKER`]) on the server at `base` with the
/// admin token `admin`; returns his token. Only the load run has one: every office user's
/// index lists every document the company has.
pub fn add_checker(base: &str, admin: &str) -> Result<String, String> {
    Api::new(base, admin).add_user(CHECKER, "office", &[])
}

/// The admin REST API, called with the bench admin's token.
struct Api {
    base: String,
    bearer: String,
    agent: ureq::Agent,
}

impl Api {
    fn new(base: &str, admin: &str) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build();
        Self {
            base: format!("{}/api/v1", base.trim_end_matches('/')),
            bearer: format!("Bearer {admin}"),
            agent: ureq::Agent::new_with_config(config),
        }
    }

    /// Adds a user and issues a token for him; returns the token.
    fn add_user(&self, name: &str, role: &str, grants: &[&str]) -> Result<String, String> {
        let user = json!({ "name": name, "role": role, "grants": grants });
        self.post("/users", &user)?;
        let token = self.post(
            &format!("/users/{name}/tokens"),
            &json!({ "ttl_seconds": TOKEN_TTL_SECONDS }),
        )?;
        token["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no token for {name} in {token}"))
    }

    fn post(&self, path: &str, body: &Json) -> Result<Json, String> {
        let url = format!("{}{path}", self.base);
        let mut response = self
            .agent
            .post(&url)
            .header("Authorization", &self.bearer)
            .send_json(body)
            .map_err(|err| format!("POST {url}: {err}"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|err| format!("POST {url}: {err}"))?;
        if !(200..300).contains(&status) {
            return Err(format!("POST {url}: {status} {text}"));
        }
        serde_json::from_str(&text).map_err(|err| format!("POST {url}: {err} in {text:?}"))
    }
}
