//! The command line's client of a running server's admin API: what `user`, `token`, `audit`
//! and `backup` use when given `--server URL`, since the command line cannot open the store a
//! running server holds.
//!
//! It speaks plain HTTP (`ureq`, blocking, no TLS stack built in): run it on the server's host
//! against the server's own listener (`http://127.0.0.1:8080`), not through the TLS reverse
//! proxy. The admin token comes from the environment or a file, never from a flag, so it does
//! not show in the process list or the shell history.

use std::io::{Read, Write};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

/// The environment variable holding the admin token.
pub const TOKEN_ENV: &str = "ITINERA_ADMIN_TOKEN";

/// Why a call to the admin API failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminClientError {
    /// The URL is not one this client can call.
    #[error("{0}")]
    BadUrl(String),
    /// The server could not be reached, or the connection broke.
    #[error("could not reach {url}: {message}")]
    Unreachable { url: String, message: String },
    /// The server answered with an error status.
    #[error("the server refused ({status}): {message}")]
    Refused { status: u16, message: String },
    /// The downloaded bytes could not be written.
    #[error("could not write the download: {0}")]
    Write(#[source] std::io::Error),
    /// The answer was not what the API promises.
    #[error("unexpected answer from the server: {0}")]
    BadAnswer(String),
}

/// A logged-in client of one server.
#[derive(Debug)]
pub struct AdminClient {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl AdminClient {
    /// A client of the server at `base` (`http://host:port`) with an admin `token`.
    pub fn new(base: &str, token: &str) -> Result<Self, AdminClientError> {
        let base = base.trim_end_matches('/').to_owned();
        if base.starts_with("https://") {
            return Err(AdminClientError::BadUrl(format!(
                "{base}: the command line speaks plain HTTP; use the server's own listener \
                 on its host (http://127.0.0.1:8080), not the TLS proxy"
            )));
        }
        if !base.starts_with("http://") {
            return Err(AdminClientError::BadUrl(format!(
                "{base} is not an http:// URL"
            )));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build();
        Ok(Self {
            base,
            token: token.trim().to_owned(),
            agent: ureq::Agent::new_with_config(config),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn unreachable(&self, err: ureq::Error) -> AdminClientError {
        AdminClientError::Unreachable {
            url: self.base.clone(),
            message: err.to_string(),
        }
    }

    fn answer<T: DeserializeOwned>(
        &self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, AdminClientError> {
        let mut response = response.map_err(|err| self.unreachable(err))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|err| self.unreachable(err))?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_str::<Json>(&text)
                .ok()
                .and_then(|json| json["error"].as_str().map(str::to_owned))
                .unwrap_or(text);
            return Err(AdminClientError::Refused { status, message });
        }
        let text = if text.is_empty() { "null" } else { &text };
        serde_json::from_str(text).map_err(|err| AdminClientError::BadAnswer(err.to_string()))
    }

    /// `GET /api/v1{path}`.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, AdminClientError> {
        let request = self
            .agent
            .get(&self.url(path))
            .header("Authorization", &format!("Bearer {}", self.token));
        self.answer(request.call())
    }

    /// `POST /api/v1{path}` with a JSON body.
    pub fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, AdminClientError> {
        let request = self
            .agent
            .post(&self.url(path))
            .header("Authorization", &format!("Bearer {}", self.token));
        self.answer(request.send_json(body))
    }

    /// `PUT /api/v1{path}` with a JSON body.
    pub fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, AdminClientError> {
        let request = self
            .agent
            .put(&self.url(path))
            .header("Authorization", &format!("Bearer {}", self.token));
        self.answer(request.send_json(body))
    }

    /// Streams `GET /api/v1{path}` into `out`; returns the bytes written.
    pub fn download(&self, path: &str, out: &mut dyn Write) -> Result<u64, AdminClientError> {
        let response = self
            .agent
            .get(&self.url(path))
            .header("Authorization", &format!("Bearer {}", self.token))
            .call();
        let response = response.map_err(|err| self.unreachable(err))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return self
                .answer::<Json>(Ok(response))
                .and(Err(AdminClientError::Refused {
                    status,
                    message: "no body".into(),
                }));
        }
        let mut body = response.into_body().into_reader();
        let mut buffer = vec![0u8; 1024 * 1024];
        let mut total = 0u64;
        loop {
            let read = body
                .read(&mut buffer)
                .map_err(|err| AdminClientError::Unreachable {
                    url: self.base.clone(),
                    message: format!("the download broke off after {total} bytes: {err}"),
                })?;
            if read == 0 {
                return Ok(total);
            }
            out.write_all(&buffer[..read])
                .map_err(AdminClientError::Write)?;
            total += read as u64;
        }
    }
}
