//! Passwords for the command line, never from a flag (a flag shows in the process list and the
//! shell history): from a file, from an environment variable, or typed at a terminal prompt
//! that does not echo (the `rpassword` crate).

use std::io::IsTerminal;
use std::path::Path;

use crate::operation_error::OperationError;

/// Where a password comes from, in this order: `file`, the variable `env`, a prompt.
#[derive(Debug, Clone, Copy)]
pub struct PasswordSource<'a> {
    /// A file holding the password (a trailing newline is dropped).
    pub file: Option<&'a Path>,
    /// An environment variable holding it.
    pub env: &'a str,
}

impl PasswordSource<'_> {
    /// The password, or `None` when none was given and there is no terminal to ask at.
    pub fn read(&self, prompt: &str) -> Result<Option<String>, OperationError> {
        if let Some(file) = self.file {
            let text = std::fs::read_to_string(file).map_err(OperationError::file(file))?;
            return non_empty(text.trim_end_matches(['\r', '\n']).to_owned()).map(Some);
        }
        if let Ok(text) = std::env::var(self.env) {
            return non_empty(text).map(Some);
        }
        if !std::io::stdin().is_terminal() {
            return Ok(None);
        }
        let first = rpassword::prompt_password(format!("{prompt}: "))
            .map_err(OperationError::file("the terminal"))?;
        let again = rpassword::prompt_password(format!("{prompt} (again): "))
            .map_err(OperationError::file("the terminal"))?;
        if first != again {
            return Err(OperationError::Refused("the two passwords differ".into()));
        }
        non_empty(first).map(Some)
    }

    /// The password, or an error saying how to give one.
    pub fn require(&self, prompt: &str) -> Result<String, OperationError> {
        self.read(prompt)?.ok_or_else(|| {
            OperationError::Refused(format!(
                "no password: give --password-file FILE, set {}, or run on a terminal to be asked",
                self.env
            ))
        })
    }
}

fn non_empty(password: String) -> Result<String, OperationError> {
    if password.is_empty() {
        Err(OperationError::Refused("the password is empty".into()))
    } else {
        Ok(password)
    }
}
