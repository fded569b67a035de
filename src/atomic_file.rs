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

/// A folder being written (a report: several files that belong together); it replaces its destination
/// as a whole only on [`AtomicDir::commit`]. The files go into a staging folder `.<name>.<random>.tmp`
/// beside the destination; a commit renames an existing destination aside, renames the staging folder
/// into place and then removes the old one (if the second rename fails, the old folder is put back).
/// Dropped without a commit, the staging folder and its files are removed.
#[derive(Debug)]
pub struct AtomicDir {
    staging: tempfile::TempDir,
    dest: PathBuf,
}

impl AtomicDir {
    /// Starts a folder that will replace `dest`.
    pub fn create(dest: &Path) -> io::Result<AtomicDir> {
        let name = dest.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} does not name a folder", dest.display()),
            )
        })?;
        let mut builder = tempfile::Builder::new();
        let prefix = format!(".{}.", name.to_string_lossy());
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o777));
        }
        let staging = builder.tempdir_in(parent_dir(dest))?;
        Ok(AtomicDir {
            staging,
            dest: dest.to_path_buf(),
        })
    }

    /// The destination.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Writes one file (a plain name, no folders) into the staging folder.
    pub fn write(
        &self,
        name: &str,
        write: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
    ) -> io::Result<()> {
        if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?} is not a plain file name"),
            ));
        }
        let file = File::create(self.staging.path().join(name))?;
        let mut w = BufWriter::new(&file);
        write(&mut w)?;
        w.flush()?;
        drop(w);
        file.sync_all()
    }

    /// Puts the folder in place of the destination.
    pub fn commit(self) -> io::Result<()> {
        sync_dir(self.staging.path());
        let staging = self.staging.keep();
        let dest = self.dest;
        let parent = parent_dir(&dest).to_path_buf();
        let undo = |e: io::Error| {
            let _ = std::fs::remove_dir_all(&staging);
            e
        };
        let old = if std::fs::symlink_metadata(&dest).is_ok() {
            let aside = tempfile::Builder::new()
                .prefix(&format!(
                    ".{}.",
                    dest.file_name().unwrap_or_default().to_string_lossy()
                ))
                .suffix(".old")
                .tempdir_in(&parent)
                .map_err(undo)?
                .keep();
            // `aside` exists as an empty folder: renaming a folder over an empty one replaces it.
            std::fs::rename(&dest, &aside).map_err(|e| {
                let _ = std::fs::remove_dir(&aside);
                undo(e)
            })?;
            Some(aside)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&staging, &dest) {
            if let Some(old) = &old {
                let _ = std::fs::rename(old, &dest);
            }
            return Err(undo(e));
        }
        if let Some(old) = old {
            let _ = std::fs::remove_dir_all(old);
        }
        sync_dir(&parent);
        Ok(())
    }
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

    #[test]
    fn a_folder_appears_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("report");
        let d = AtomicDir::create(&dest).unwrap();
        d.write("a.txt", |w| w.write_all(b"a")).unwrap();
        assert!(!dest.exists(), "nothing before the commit");
        drop(d);
        assert!(entries(dir.path()).is_empty(), "staging removed on drop");
        assert!(AtomicDir::create(&dest)
            .unwrap()
            .write("../x", |_| Ok(()))
            .is_err());

        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("stale.png"), "old").unwrap();
        let d = AtomicDir::create(&dest).unwrap();
        d.write("a.txt", |w| w.write_all(b"new")).unwrap();
        d.write("b.txt", |w| w.write_all(b"bee")).unwrap();
        d.commit().unwrap();
        assert_eq!(entries(&dest), ["a.txt", "b.txt"], "replaced as a whole");
        assert_eq!(entries(dir.path()), ["report"], "nothing left beside it");
    }
}
