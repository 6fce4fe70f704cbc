//! Bounded reads of outside input: stdin and files named on the command line.
//!
//! Every read stops one byte past its limit ([`std::io::Read::take`]) and fails with
//! code `input-too-large` when that byte exists, so `< /dev/zero` or a huge file costs
//! at most the limit in memory. Files must be regular files: the type is checked
//! before opening, so a FIFO with no writer (whose open would block) or a device is
//! refused with `input-not-a-file` instead of hanging or streaming forever.

use std::io::{BufRead as _, Read};
use std::path::Path;

use zeroize::Zeroizing;

use super::CliError;
use localfirst_core::Code;

/// Most bytes read from stdin for one value (secret, token, JWT, phrase): 1 MiB.
/// Far above any valid value (external tokens are limited to 16 KiB), so a value
/// that is merely too long still gets its own, more precise error from the core.
pub const MAX_STDIN_BYTES: u64 = 1024 * 1024;

/// Reads the first line of stdin (at most [`MAX_STDIN_BYTES`]), trimmed. Empty
/// input is an error with code `stdin`.
pub fn stdin_line(what: &str) -> Result<Zeroizing<String>, CliError> {
    let stdin = std::io::stdin();
    let mut reader = stdin.lock().take(MAX_STDIN_BYTES + 1);
    let mut bytes = Zeroizing::new(Vec::with_capacity(64 * 1024));
    reader
        .read_until(b'\n', &mut bytes)
        .map_err(|e| stdin_error(what, &e))?;
    finish_stdin(bytes, what)
}

/// Reads all of stdin (at most [`MAX_STDIN_BYTES`]), trimmed. Empty input is an
/// error with code `stdin`.
pub fn stdin_all(what: &str) -> Result<Zeroizing<String>, CliError> {
    let stdin = std::io::stdin();
    let mut reader = stdin.lock().take(MAX_STDIN_BYTES + 1);
    let mut bytes = Zeroizing::new(Vec::with_capacity(64 * 1024));
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| stdin_error(what, &e))?;
    finish_stdin(bytes, what)
}

/// Reads a regular file of at most `limit` bytes as UTF-8 text.
pub fn file_text(path: &Path, limit: u64, what: &str) -> Result<String, CliError> {
    let shown = path.display();
    let read_error = |e: std::io::Error| {
        CliError::new(
            Code::InputRead,
            format!("cannot read the {what} {shown}: {e}"),
        )
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_file() {
        return Err(CliError::new(
            Code::InputNotAFile,
            format!("the {what} {shown} is not a regular file"),
        ));
    }
    let file = std::fs::File::open(path).map_err(read_error)?;
    if !file.metadata().map_err(read_error)?.is_file() {
        return Err(CliError::new(
            Code::InputNotAFile,
            format!("the {what} {shown} is not a regular file"),
        ));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(what, limit));
    }
    String::from_utf8(bytes).map_err(|_| {
        CliError::new(
            Code::InputRead,
            format!("the {what} {shown} is not UTF-8 text"),
        )
    })
}

fn too_large(what: &str, limit: u64) -> CliError {
    CliError::new(
        Code::InputTooLarge,
        format!("the {what} is larger than {limit} bytes"),
    )
}

fn stdin_error(what: &str, error: &std::io::Error) -> CliError {
    CliError::new(
        Code::Stdin,
        format!("could not read the {what} from stdin: {error}"),
    )
}

fn finish_stdin(bytes: Zeroizing<Vec<u8>>, what: &str) -> Result<Zeroizing<String>, CliError> {
    if bytes.len() as u64 > MAX_STDIN_BYTES {
        return Err(too_large(&format!("{what} on stdin"), MAX_STDIN_BYTES));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        CliError::new(
            Code::Stdin,
            format!("the {what} on stdin is not UTF-8 text"),
        )
    })?;
    let trimmed = Zeroizing::new(text.trim().to_owned());
    if trimmed.is_empty() {
        return Err(CliError::new(Code::Stdin, format!("no {what} on stdin")));
    }
    Ok(trimmed)
}
