//! Names: app-id encoding, namespace directories, table/column/id validation.

use std::path::{Path, PathBuf};

use sha2::Digest as _;

use super::rows::check_user_columns;
use super::{
    NameKind, Row, StorageError, CREATED_AT, CREATED_BY, MAX_ID_LEN, MAX_NAME_LEN, UPDATED_AT,
    UPDATED_BY,
};

// ---------------------------------------------------------------------------
// What a client can store

/// Checks that a change of row `id` in `table` (with these user columns, when
/// it carries any) can be stored by every client: the table name is valid
/// ([`is_valid_name`]), the id is 1 to [`MAX_ID_LEN`] bytes without control
/// characters, and every column is a valid column name (no `$` system
/// column; `id` is allowed). The one rule the local store and the sync server
/// both apply: the server refuses what a client could not store.
/// Errors: [`StorageError::InvalidName`] (`invalid-name`) for a table or
/// column, [`StorageError::InvalidRow`] (`invalid-row`) for the id or a
/// system column.
pub fn check_entry(table: &str, id: &str, columns: Option<&Row>) -> Result<(), StorageError> {
    check_table(table)?;
    check_id(id)?;
    if let Some(columns) = columns {
        check_user_columns(columns)?;
    }
    Ok(())
}

/// The key under which table names are compared for a clash: two names with
/// the same key are one table to SQLite (which compares names without regard
/// to ASCII case), so a namespace holds at most one of them
/// ([`StorageError::TableNameClash`]). Valid names are ASCII, so this is
/// their ASCII lower case.
pub fn table_name_key(table: &str) -> String {
    table.to_ascii_lowercase()
}

// ---------------------------------------------------------------------------
// Names and namespaces

/// Longest namespace directory name [`encode_app_id`] produces, in bytes. Longer
/// encodings are shortened with a hash (file systems allow 255 bytes per name).
pub const MAX_NAMESPACE_DIR_LEN: usize = 200;

/// How much of a too-long encoding is kept, readable, before the hash.
pub(super) const HASHED_PREFIX_LEN: usize = 120;

/// Encodes an app id into a directory name.
///
/// Bytes outside `a-z 0-9 - _` (upper-case letters included) become `%XX` with
/// upper-case hex digits, so the name is injective even on case-insensitive
/// file systems (`MyApp` → `%4Dy%41pp`, `myapp` → `myapp`), ASCII only (no
/// Unicode normalisation can merge two names), and never `.`, `..` or a path.
/// An encoding longer than [`MAX_NAMESPACE_DIR_LEN`] is cut to a readable
/// prefix followed by `~` and the SHA-256 of the exact app id in lower-case
/// hex; `~` never occurs in an unshortened name, so the two forms cannot clash.
pub fn encode_app_id(app_id: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(app_id.len());
    for byte in app_id.bytes() {
        if byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_' {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    if out.len() <= MAX_NAMESPACE_DIR_LEN {
        return out;
    }
    // Cut before an escape rather than through it (escapes are 3 bytes).
    let mut cut = HASHED_PREFIX_LEN;
    if let Some(pos) = out[cut - 2..cut].find('%') {
        cut = cut - 2 + pos;
    }
    out.truncate(cut);
    out.push('~');
    for byte in sha2::Sha256::digest(app_id.as_bytes()) {
        out.push(char::from(HEX[usize::from(byte >> 4)].to_ascii_lowercase()));
        out.push(char::from(
            HEX[usize::from(byte & 0x0f)].to_ascii_lowercase(),
        ));
    }
    out
}

/// The directory of `app_id`'s namespace under `data_dir`.
pub fn namespace_dir(data_dir: &Path, app_id: &str) -> PathBuf {
    data_dir.join(encode_app_id(app_id))
}

/// Whether `name` is a valid table or column name.
pub fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(first) if first.is_ascii_alphabetic() || first == b'_' => {}
        _ => return false,
    }
    name.len() <= MAX_NAME_LEN && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A fresh random row id (UUIDv4, lowercase hyphenated).
pub fn new_row_id() -> Result<String, StorageError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|_| StorageError::Rng)?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string())
}

pub(super) fn check_table(table: &str) -> Result<(), StorageError> {
    if is_valid_name(table) {
        Ok(())
    } else {
        Err(StorageError::InvalidName {
            kind: NameKind::Table,
            name: table.to_owned(),
        })
    }
}

pub(super) fn check_column(column: &str) -> Result<(), StorageError> {
    if is_valid_name(column) && column != "id" {
        Ok(())
    } else {
        Err(StorageError::InvalidName {
            kind: NameKind::Column,
            name: column.to_owned(),
        })
    }
}

pub(super) fn check_id(id: &str) -> Result<(), StorageError> {
    if id.is_empty() || id.len() > MAX_ID_LEN || id.chars().any(char::is_control) {
        return Err(StorageError::InvalidRow {
            reason: format!("a row id must be 1 to {MAX_ID_LEN} bytes without control characters"),
        });
    }
    Ok(())
}

pub(super) fn sql_table(table: &str) -> String {
    format!("\"t_{table}\"")
}

/// The quoted SQLite name of the index on `column` (validated) of `table`:
/// `x<len>_<table>_<column>`, `$` dropped from system columns. SQLite compares
/// names without regard to case, so upper-case letters of a user column are
/// written `^` + lower case (`Title` → `^title`), and a user column that would
/// read like a system column gets a trailing `^`: `title`, `Title` and
/// `createdby` never share an index name with each other or with `$createdBy`.
/// Names of lower-case columns and of system columns are what they always were.
pub(super) fn index_name(table: &str, column: &str) -> String {
    let column = match column.strip_prefix('$') {
        Some(system) => system.to_owned(),
        None => {
            let mut out = String::with_capacity(column.len() + 2);
            for c in column.chars() {
                if c.is_ascii_uppercase() {
                    out.push('^');
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            if ["createdby", "createdat", "updatedby", "updatedat"].contains(&out.as_str()) {
                out.push('^');
            }
            out
        }
    };
    format!("\"x{}_{}_{}\"", table.len(), table, column)
}

/// The SQL expression reading `column` (already validated).
pub(super) fn column_expr(column: &str) -> String {
    match column {
        "id" => "id".to_owned(),
        CREATED_BY => "created_by".to_owned(),
        CREATED_AT => "created_at".to_owned(),
        UPDATED_BY => "updated_by".to_owned(),
        UPDATED_AT => "updated_at".to_owned(),
        other => format!("json_extract(data, '$.{other}')"),
    }
}

pub(super) fn filter_column(column: &str) -> Result<String, StorageError> {
    match column {
        "id" | CREATED_BY | CREATED_AT | UPDATED_BY | UPDATED_AT => Ok(column_expr(column)),
        other => {
            check_column(other)?;
            Ok(column_expr(other))
        }
    }
}
