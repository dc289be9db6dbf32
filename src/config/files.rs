//! The one way the tool reads a file it is given — the migration file, a saved plan, what
//! `file()` names, TLS certificates and keys, a Connect credentials file, source positions, an offset map: a regular file only
//! (a FIFO that would block, a device without end such as `/dev/zero`, a folder are refused
//! before they are opened), at most a size limit (checked before reading and while reading),
//! with a message that names the file.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest migration file read.
pub const MAX_MIGRATION_FILE: u64 = 16 << 20;
/// The largest saved plan read.
pub const MAX_PLAN_FILE: u64 = 64 << 20;
/// The largest file of source positions or offset map read.
pub const MAX_OFFSETS_FILE: u64 = 256 << 20;
/// The largest file `file()`, a certificate, a key or a credentials file may be.
pub const MAX_SMALL_FILE: u64 = 1 << 20;

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {why}", path.display())]
pub struct FileError {
    pub path: PathBuf,
    /// What is wrong, such as "is a folder" or "is larger than 1 MiB (2097152 bytes)".
    pub why: String,
    /// The system's error, when opening or reading failed.
    io: Option<String>,
}

impl FileError {
    /// What is wrong, after "cannot read FILE: ": the system's error as it says it, or
    /// "it is a folder", "it is larger than …".
    pub fn reason(&self) -> String {
        match &self.io {
            Some(e) => e.clone(),
            None => format!("it {}", self.why),
        }
    }

    /// Whether the file is there but is not one the tool reads (a folder, a device, too
    /// large, not text), as opposed to missing or unreadable.
    pub fn refused(&self) -> bool {
        self.io.is_none()
    }
}

/// The bytes of the regular file `path`, at most `limit` of them.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let error = |why: String| FileError {
        path: path.to_path_buf(),
        why,
        io: None,
    };
    let io_error = |e: std::io::Error| FileError {
        path: path.to_path_buf(),
        why: format!("cannot be read: {e}"),
        io: Some(e.to_string()),
    };
    let meta = std::fs::metadata(path).map_err(io_error)?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file (a pipe, socket or device)"
        };
        return Err(error(format!("is {kind}")));
    }
    let too_large = |size: Option<u64>| {
        let size = size.map(|s| format!(" ({s} bytes)")).unwrap_or_default();
        error(format!("is larger than {}{size}", human(limit)))
    };
    if meta.len() > limit {
        return Err(too_large(Some(meta.len())));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(io_error)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(None));
    }
    Ok(bytes)
}

/// [`read_bounded`] as UTF-8 text.
pub fn read_text(path: &Path, limit: u64) -> Result<String, FileError> {
    String::from_utf8(read_bounded(path, limit)?).map_err(|_| FileError {
        path: path.to_path_buf(),
        why: "is not UTF-8 text".into(),
        io: None,
    })
}

fn human(bytes: u64) -> String {
    if bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fine = dir.path().join("fine");
        std::fs::write(&fine, "text").unwrap();
        assert_eq!(read_text(&fine, 4).unwrap(), "text");
        let err = read_text(&fine, 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{} is larger than 3 bytes (4 bytes)", fine.display())
        );
        let err = read_bounded(dir.path(), 10).unwrap_err();
        assert!(err.to_string().ends_with("is a folder"), "{err}");
        let err = read_bounded(Path::new("/dev/zero"), 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/zero is not a regular file (a pipe, socket or device)"
        );
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let err = read_bounded(&fifo, 10).unwrap_err();
        assert!(err.why.contains("not a regular file"), "{err}");
        let latin1 = dir.path().join("latin1");
        std::fs::write(&latin1, [0xe9]).unwrap();
        assert!(read_text(&latin1, 10).unwrap_err().why.contains("UTF-8"));
        assert!(read_text(&dir.path().join("missing"), 10)
            .unwrap_err()
            .why
            .starts_with("cannot be read"));
    }
}
