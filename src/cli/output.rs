//! The files a command writes, handled the same way by every command:
//!
//! 1. **Before any work**, [`Outputs::input`] names each input file and [`Outputs::output`] checks each
//!    output path: its folder exists and is writable, it is not a folder, and it is neither an input nor
//!    another output of the same command (paths are compared after resolving `.`, `..` and symbolic
//!    links, so `./a` and `a` collide). A collision is a usage error (exit 2); a missing or read-only
//!    folder fails the command (exit 1) before it has done anything.
//! 2. **After the work**, [`Outputs::write`] writes each file into a temporary file beside its
//!    destination ([`qasa::atomic_file`]).
//! 3. [`Outputs::commit`] flushes every file to disk and renames it over its destination. Until then
//!    nothing is replaced; if anything fails (an error, a full disk), the temporary files are removed and
//!    no destination is touched.
//!
//! ```ignore
//! let mut files = Outputs::new();
//! files.input(&args.input);
//! let out = files.output("--out", &args.out)?;
//! let result = work()?;                               // long job, after the checks
//! files.write(out, |w| serde_json::to_writer(w, &result))?;
//! files.commit()?;
//! ```

use super::usage;
use anyhow::{Context, Result};
use qasa::atomic_file::{parent_dir, AtomicFile};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// One output, checked by [`Outputs::output`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputId(usize);

/// The inputs and outputs of one command.
#[derive(Debug, Default)]
pub struct Outputs {
    inputs: Vec<(PathBuf, FileKey)>,
    planned: Vec<Planned>,
    staged: Vec<Option<AtomicFile>>,
}

#[derive(Debug)]
struct Planned {
    flag: String,
    path: PathBuf,
    key: FileKey,
}

/// What identifies a file: its resolved path(s) and, for an existing file on Unix, its device and inode
/// (so that hard links collide too).
#[derive(Debug, Default)]
struct FileKey {
    paths: Vec<PathBuf>,
    inode: Option<(u64, u64)>,
}

impl FileKey {
    fn of(path: &Path) -> FileKey {
        let mut key = FileKey::default();
        if let Ok(p) = std::fs::canonicalize(path) {
            key.paths.push(p);
        }
        // The path itself with its folder resolved: the name a rename replaces.
        if let (Ok(dir), Some(name)) = (std::fs::canonicalize(parent_dir(path)), path.file_name()) {
            key.paths.push(dir.join(name));
        }
        if key.paths.is_empty() {
            key.paths
                .push(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
        }
        #[cfg(unix)]
        if let Ok(m) = std::fs::metadata(path) {
            use std::os::unix::fs::MetadataExt;
            key.inode = Some((m.dev(), m.ino()));
        }
        key
    }

    fn same_file(&self, other: &FileKey) -> bool {
        self.paths.iter().any(|p| other.paths.contains(p))
            || self.inode.is_some() && self.inode == other.inode
    }
}

impl Outputs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Names an input file (outputs may not replace it).
    pub fn input(&mut self, path: &Path) -> &mut Self {
        self.inputs.push((path.to_path_buf(), FileKey::of(path)));
        self
    }

    /// Checks an output path before any work starts; `flag` names it in errors (`--out`).
    pub fn output(&mut self, flag: &str, path: &Path) -> Result<OutputId> {
        let shown = path.display();
        if path.file_name().is_none() {
            return Err(usage(format!("{flag} {shown}: not a file name")));
        }
        if path.is_dir() {
            return Err(usage(format!(
                "{flag} {shown} is a folder: give a file name"
            )));
        }
        let key = FileKey::of(path);
        if let Some((input, _)) = self.inputs.iter().find(|(_, k)| k.same_file(&key)) {
            return Err(usage(format!(
                "{flag} {shown} is the input {}: refusing to overwrite an input; choose another output name",
                input.display()
            )));
        }
        if let Some(other) = self.planned.iter().find(|p| p.key.same_file(&key)) {
            return Err(usage(format!(
                "{flag} {shown} is the same file as {} {}: give each output its own name",
                other.flag,
                other.path.display()
            )));
        }
        check_folder(path)?;
        self.planned.push(Planned {
            flag: flag.to_string(),
            path: path.to_path_buf(),
            key,
        });
        self.staged.push(None);
        Ok(OutputId(self.planned.len() - 1))
    }

    /// Checks an output folder that is written whole ([`qasa::atomic_file::AtomicDir`]): not an input,
    /// not a file, and its parent folder exists and takes new files.
    pub fn folder(&mut self, flag: &str, path: &Path) -> Result<()> {
        let shown = path.display();
        if path.file_name().is_none() {
            return Err(usage(format!("{flag} {shown}: not a folder name")));
        }
        if path.exists() && !path.is_dir() {
            return Err(usage(format!(
                "{flag} {shown} is a file: give a folder name"
            )));
        }
        let key = FileKey::of(path);
        if let Some((input, _)) = self.inputs.iter().find(|(_, k)| k.same_file(&key)) {
            return Err(usage(format!(
                "{flag} {shown} is the input {}: choose another output name",
                input.display()
            )));
        }
        check_folder(path)
    }

    /// Checks an optional output (`--csv FILE`).
    pub fn optional(&mut self, flag: &str, path: Option<&Path>) -> Result<Option<OutputId>> {
        path.map(|p| self.output(flag, p)).transpose()
    }

    /// Writes an output into a temporary file beside it; nothing is replaced before [`Outputs::commit`].
    pub fn write<E: Into<anyhow::Error>>(
        &mut self,
        id: OutputId,
        write: impl FnOnce(&mut BufWriter<&File>) -> Result<(), E>,
    ) -> Result<()> {
        let path = &self.planned[id.0].path;
        let what = || format!("cannot write {}", path.display());
        let file = AtomicFile::create(path).with_context(what)?;
        let mut w = BufWriter::new(file.file());
        write(&mut w).map_err(Into::into).with_context(what)?;
        w.flush().with_context(what)?;
        drop(w);
        self.staged[id.0] = Some(file);
        Ok(())
    }

    /// Flushes every written output to disk and puts it in place.
    pub fn commit(self) -> Result<()> {
        debug_assert!(
            self.staged.iter().all(Option::is_some),
            "an output was checked but never written"
        );
        for file in self.staged.into_iter().flatten() {
            let dest = file.dest().to_path_buf();
            file.commit()
                .with_context(|| format!("cannot write {}", dest.display()))?;
        }
        Ok(())
    }
}

/// The output's folder exists, is a folder, and takes new files.
fn check_folder(path: &Path) -> Result<()> {
    let dir = parent_dir(path);
    let shown = path.display();
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!(
                "cannot write {shown}: the folder {} does not exist (create it first)",
                dir.display()
            )
        }
        Err(e) => anyhow::bail!("cannot write {shown}: {}: {e}", dir.display()),
        Ok(m) if !m.is_dir() => {
            anyhow::bail!("cannot write {shown}: {} is not a folder", dir.display())
        }
        Ok(_) => {}
    }
    tempfile::Builder::new()
        .prefix(".qasa-probe.")
        .tempfile_in(dir)
        .map(drop)
        .with_context(|| {
            format!(
                "cannot write {shown}: cannot create files in {}",
                dir.display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage_of(e: &anyhow::Error) -> bool {
        e.downcast_ref::<super::super::Usage>().is_some()
    }

    #[test]
    fn refuses_an_input_or_a_repeated_output_however_spelled() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("in.json"), "{}").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        let mut o = Outputs::new();
        o.input(&d.join("in.json"));
        let e = o.output("--out", &d.join("sub/../in.json")).unwrap_err();
        assert!(
            usage_of(&e) && e.to_string().contains("is the input"),
            "{e}"
        );
        o.output("--out", &d.join("a.json")).unwrap();
        let e = o.output("--csv", &d.join("./a.json")).unwrap_err();
        assert!(usage_of(&e), "{e}");
        assert!(e.to_string().contains("same file as --out"), "{e}");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.join("in.json"), d.join("link.json")).unwrap();
            assert!(o.output("--csv", &d.join("link.json")).is_err());
            std::fs::hard_link(d.join("in.json"), d.join("hard.json")).unwrap();
            assert!(o.output("--csv", &d.join("hard.json")).is_err());
        }
    }

    #[test]
    fn refuses_missing_folders_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut o = Outputs::new();
        let e = o.output("--truth", &d.join("nodir/t.json")).unwrap_err();
        assert!(
            !usage_of(&e) && e.to_string().contains("does not exist"),
            "{e}"
        );
        let e = o.output("--out", d).unwrap_err();
        assert!(e.to_string().contains("is a folder"), "{e}");
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 0, "no probe left");
    }

    #[test]
    fn nothing_is_replaced_until_commit_and_nothing_left_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.txt"), "old").unwrap();
        let mut o = Outputs::new();
        let a = o.output("--out", &d.join("a.txt")).unwrap();
        let b = o.output("--csv", &d.join("b.txt")).unwrap();
        o.write(a, |w| w.write_all(b"new")).unwrap();
        let e = o.write(b, |_| Err(anyhow::anyhow!("boom"))).unwrap_err();
        assert!(e.to_string().contains("b.txt"), "{e}");
        drop(o);
        let names: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.txt"]);
        assert_eq!(std::fs::read_to_string(d.join("a.txt")).unwrap(), "old");

        let mut o = Outputs::new();
        let a = o.output("--out", &d.join("a.txt")).unwrap();
        let b = o.output("--csv", &d.join("b.txt")).unwrap();
        o.write(a, |w| w.write_all(b"new")).unwrap();
        o.write(b, |w| w.write_all(b"bee")).unwrap();
        o.commit().unwrap();
        assert_eq!(std::fs::read_to_string(d.join("a.txt")).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(d.join("b.txt")).unwrap(), "bee");
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 2);
    }
}
