//! Reading a password: one line of standard input, or a prompt on the
//! terminal. The line ending is not part of the password.

use std::io::{BufRead as _, IsTerminal as _};

use anyhow::{Context as _, bail};
use tollgate_core::secret::Password;

pub(crate) fn read_password(from_stdin: bool) -> anyhow::Result<Password> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
        let password = line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line);
        if password.is_empty() {
            bail!("the password on stdin is empty");
        }
        let password = Password::new(password);
        zeroize::Zeroize::zeroize(&mut line);
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to prompt for a password: pass it on stdin with --password-stdin");
    }
    let first = Password::new(rpassword::prompt_password("Password: ").context("cannot read the password")?);
    let second =
        Password::new(rpassword::prompt_password("Repeat password: ").context("cannot read the password")?);
    if first.expose() != second.expose() {
        bail!("the passwords do not match");
    }
    if first.expose().is_empty() {
        bail!("the password is empty");
    }
    Ok(first)
}
