//! Atomic file output: write into a temporary file in the destination's folder, flush it to disk, then
//! rename it over the destination. A reader sees either the old file or the complete new one; a write
//! that fails (full disk, error half-way) leaves the destination untouched and removes the temporary file.
//!
//! The temporary file is named `.<name>.<random>.tmp` beside the destination (a rename is only atomic
//! within one file system) and gets the permissions a plain `File::create` would (0o666 minus the umask).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file being written; it replaces its destination only on [`AtomicFile::commit`].
/// Dropped without a commit, the temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
}

/// The folder a file lives in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl AtomicFile {
    /// Starts a file that will replace `dest`.
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        let name = dest.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} does not name a file", dest.display()),
            )
        })?;
        let mut builder = tempfile::Builder::new();
        let prefix = format!(".{}.", name.to_string_lossy());
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder.tempfile_in(parent_dir(dest))?;
        Ok(AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
        })
    }

    /// The destination.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// The open temporary file.
    pub fn file(&self) -> &File {
        self.tmp.as_file()
    }

    /// Flushes the data to disk and renames the temporary file over the destination.
    pub fn commit(self) -> io::Result<()> {
        self.tmp.as_file().sync_all()?;
        let dest = self.dest;
        self.tmp.persist(&dest).map_err(|e| e.error)?;
        sync_dir(parent_dir(&dest));
        Ok(())
    }
}

/// Makes a rename durable. Best effort: some file systems cannot sync a directory, and the rename has
/// already happened either way.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Writes `dest` atomically with `write`, through a buffer. `io` turns an I/O error of the temporary
/// file into the caller's error type.
pub fn write_atomic<E>(
    dest: &Path,
    io: impl Fn(io::Error) -> E,
    write: impl FnOnce(&mut BufWriter<&File>) -> Result<(), E>,
) -> Result<(), E> {
    let file = AtomicFile::create(dest).map_err(&io)?;
    let mut w = BufWriter::new(file.file());
    write(&mut w)?;
    w.flush().map_err(&io)?;
    drop(w);
    file.commit().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_the_destination_only_on_success() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.txt");
        std::fs::write(&dest, "old").unwrap();
        let r: io::Result<()> = write_atomic(
            &dest,
            |e| e,
            |w| {
                w.write_all(b"half")?;
                Err(io::Error::other("boom"))
            },
        );
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old");
        assert_eq!(entries(dir.path()), ["a.txt"], "no temporary file left");
        write_atomic(&dest, |e| e, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "new");
        assert_eq!(entries(dir.path()), ["a.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn gets_ordinary_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p.txt");
        write_atomic(&dest, |e| e, |w| w.write_all(b"x")).unwrap();
        let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
        assert_eq!(mode & 0o600, 0o600);
        let plain = dir.path().join("plain.txt");
        std::fs::write(&plain, "x").unwrap();
        assert_eq!(
            mode & 0o777,
            std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777,
            "same mode as File::create"
        );
    }

    #[test]
    fn a_missing_folder_fails_without_creating_anything() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("nodir").join("a.txt");
        assert!(write_atomic(&dest, |e| e, |w| w.write_all(b"x")).is_err());
        assert!(entries(dir.path()).is_empty());
    }
}
