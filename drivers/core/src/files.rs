//! Files the user already has stay theirs: the one place every command and panel job goes
//! through to read an input (a path, or `-` for standard input, with a size bound when the
//! whole input is needed) and to write an output (into a new file moved into place only
//! when it is complete, never over an input or another output of the same command).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// What went wrong with a file, in words that say what to do.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// An output is one of the inputs (or two outputs are the same file).
    #[error("{output} is also {role}: benchtop will not write over it; choose another output path")]
    Clash {
        /// The output path as given.
        output: String,
        /// "the input", "the other output (--capture)"…
        role: String,
    },
    /// The output exists and overwriting was not asked for.
    #[error("{path} already exists: choose another name, or pass --force to replace it")]
    Exists {
        /// The path as given.
        path: String,
    },
    /// The input is larger than the command reads whole.
    #[error("{path} is larger than {limit} bytes: is it really {what}?")]
    TooLarge {
        /// The path as given ("standard input" for `-`).
        path: String,
        /// The bound.
        limit: u64,
        /// What the file should be.
        what: &'static str,
    },
    /// An I/O error, once, with the path.
    #[error("{what} {path}: {source}")]
    Io {
        /// "reading", "creating"…
        what: &'static str,
        /// The path as given.
        path: String,
        /// The OS's error.
        #[source]
        source: io::Error,
    },
}

impl FileError {
    fn io(what: &'static str, path: &Path, source: io::Error) -> Self {
        Self::Io {
            what,
            path: shown(path),
            source,
        }
    }
}

/// The path as the user should read it (`-` is standard input).
pub fn shown(path: &Path) -> String {
    if is_stdin(path) {
        "standard input".into()
    } else {
        path.display().to_string()
    }
}

/// Whether `path` means standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Opens an input for reading line by line: a file, or standard input for `-`.
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead + Send>, FileError> {
    if is_stdin(path) {
        return Ok(Box::new(BufReader::new(io::stdin())));
    }
    let f = File::open(path).map_err(|e| FileError::io("opening", path, e))?;
    Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
}

/// Reads a whole input (a file, or standard input for `-`), refusing more than `limit`
/// bytes, so `/dev/zero` or a wrong file gives an error instead of filling memory.
pub fn read_bounded(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, FileError> {
    let mut input = open_input(path)?;
    let mut out = Vec::new();
    let n = input
        .by_ref()
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| FileError::io("reading", path, e))?;
    if n as u64 > limit {
        return Err(FileError::TooLarge {
            path: shown(path),
            limit,
            what,
        });
    }
    Ok(out)
}

/// Whether two paths name the same file: the same inode when both exist, else the same
/// absolute path (a file about to be created).
pub fn same_file(a: &Path, b: &Path) -> bool {
    if is_stdin(a) || is_stdin(b) {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    match (absolute(a), absolute(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The absolute form of a path whose file may not exist yet (its folder resolved).
fn absolute(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = fs::canonicalize(p) {
        return Some(c);
    }
    let name = p.file_name()?;
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some(fs::canonicalize(dir).ok()?.join(name))
}

/// Refuses outputs that are an input or each other. `inputs` and `outputs` are
/// (path, what the user calls it) pairs, e.g. `(log, "the input log")`, `(vcd, "--vcd")`.
pub fn refuse_clashes(
    inputs: &[(&Path, &str)],
    outputs: &[(&Path, &str)],
) -> Result<(), FileError> {
    for (i, (out, out_role)) in outputs.iter().enumerate() {
        for (inp, role) in inputs {
            if same_file(out, inp) {
                return Err(FileError::Clash {
                    output: format!("{} ({out_role})", out.display()),
                    role: (*role).to_owned(),
                });
            }
        }
        for (other, role) in &outputs[..i] {
            if same_file(out, other) {
                return Err(FileError::Clash {
                    output: format!("{} ({out_role})", out.display()),
                    role: format!("the other output ({role})"),
                });
            }
        }
    }
    Ok(())
}

/// What to do when an output's path exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse ([`FileError::Exists`]).
    Refuse,
    /// Replace it, but only when the new file is complete.
    Replace,
}

/// An output being written: a new file beside the target (`.NAME.partial-PID`), moved into
/// place by [`PartialFile::commit`] (or [`PartialFile::publish`] for files that stay open
/// and grow). Dropped uncommitted, it is deleted: a failed attempt leaves nothing behind and
/// the file the user had is untouched.
#[derive(Debug)]
pub struct PartialFile {
    target: PathBuf,
    temp: PathBuf,
    file: File,
    overwrite: Overwrite,
    published: bool,
}

impl PartialFile {
    /// Starts writing `target`. With [`Overwrite::Refuse`] an existing target is an error now,
    /// before any work.
    pub fn create(target: &Path, overwrite: Overwrite) -> Result<Self, FileError> {
        if overwrite == Overwrite::Refuse && fs::symlink_metadata(target).is_ok() {
            return Err(FileError::Exists {
                path: target.display().to_string(),
            });
        }
        let name = target
            .file_name()
            .ok_or_else(|| {
                FileError::io(
                    "creating",
                    target,
                    io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
                )
            })?
            .to_string_lossy()
            .into_owned();
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temp = dir.join(format!(".{name}.partial-{}", std::process::id()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&temp)
            .or_else(|e| {
                // A stale partial of an earlier run with the same process id.
                if e.kind() == io::ErrorKind::AlreadyExists {
                    let _ = fs::remove_file(&temp);
                    OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create_new(true)
                        .open(&temp)
                } else {
                    Err(e)
                }
            })
            .map_err(|e| FileError::io("creating", target, e))?;
        Ok(Self {
            target: target.to_path_buf(),
            temp,
            file,
            overwrite,
            published: false,
        })
    }

    /// The file being written.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Where the file will be (or is, once published).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Where the bytes are now.
    pub fn current_path(&self) -> &Path {
        if self.published {
            &self.target
        } else {
            &self.temp
        }
    }

    /// Whether the file is at its target already.
    pub fn is_published(&self) -> bool {
        self.published
    }

    /// Moves the file into place while it stays open (a recording whose first complete
    /// part any reader can open): from now on the target is the file being written.
    pub fn publish(&mut self) -> Result<(), FileError> {
        if self.published {
            return Ok(());
        }
        self.file
            .flush()
            .map_err(|e| FileError::io("writing", &self.target, e))?;
        if self.overwrite == Overwrite::Refuse && fs::symlink_metadata(&self.target).is_ok() {
            return Err(FileError::Exists {
                path: self.target.display().to_string(),
            });
        }
        fs::rename(&self.temp, &self.target)
            .map_err(|e| FileError::io("moving into place", &self.target, e))?;
        self.published = true;
        Ok(())
    }

    /// Flushes, syncs and moves the finished file into place.
    pub fn commit(mut self) -> Result<PathBuf, FileError> {
        self.file
            .flush()
            .and_then(|()| self.file.sync_all())
            .map_err(|e| FileError::io("writing", &self.target, e))?;
        self.publish()?;
        Ok(self.target.clone())
    }
}

impl Write for PartialFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Writes a whole output at once through a [`PartialFile`]: `write` fills it; on success it
/// is moved into place, on error nothing is left.
pub fn write_new(
    target: &Path,
    overwrite: Overwrite,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<PathBuf, FileError> {
    let mut p = PartialFile::create(target, overwrite)?;
    {
        let mut w = io::BufWriter::new(p.file());
        write(&mut w)
            .and_then(|()| w.flush())
            .map_err(|e| FileError::io("writing", target, e))?;
    }
    p.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("benchtop-files-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).expect("dir");
        d
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_partial() {
        let d = dir("fail");
        let target = d.join("out.vcd");
        fs::write(&target, b"the user's file").expect("write");
        let r = write_new(&target, Overwrite::Replace, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(&target).expect("read"), b"the user's file");
        assert_eq!(fs::read_dir(&d).expect("ls").count(), 1, "no partial left");
        let r = write_new(&target, Overwrite::Refuse, |w| w.write_all(b"new"));
        assert!(matches!(r, Err(FileError::Exists { .. })), "{r:?}");
        write_new(&target, Overwrite::Replace, |w| w.write_all(b"new")).expect("replace");
        assert_eq!(fs::read(&target).expect("read"), b"new");
    }

    #[test]
    fn a_published_file_keeps_growing_in_place() {
        let d = dir("publish");
        let target = d.join("rec.edf");
        let mut p = PartialFile::create(&target, Overwrite::Refuse).expect("create");
        p.write_all(b"head").expect("w");
        assert!(!target.exists(), "not there before it is readable");
        p.publish().expect("publish");
        p.write_all(b"+record").expect("w");
        p.flush().expect("flush");
        assert_eq!(fs::read(&target).expect("read"), b"head+record");
        drop(p);
        assert!(target.exists(), "a published file stays when dropped");
    }

    #[test]
    fn clashes_are_found_by_inode_and_by_path() {
        let d = dir("clash");
        let log = d.join("ath.log");
        fs::write(&log, b"x").expect("write");
        let link = d.join("alias.log");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&log, &link).expect("symlink");
        let e = refuse_clashes(&[(&log, "the input log")], &[(&link, "--vcd")]);
        assert!(
            e.as_ref()
                .is_err_and(|e| e.to_string().contains("is also the input log")),
            "{e:?}"
        );
        let a = d.join("new.edf");
        let b = d.join(".").join("new.edf");
        let e = refuse_clashes(&[], &[(&a, "--out"), (&b, "--capture")]);
        assert!(
            e.is_err_and(|e| e.to_string().contains("the other output (--out)")),
            "two new outputs with one path"
        );
        assert!(refuse_clashes(&[(&log, "input")], &[(&a, "--out")]).is_ok());
    }

    #[test]
    fn bounded_reads_stop_at_the_bound() {
        let d = dir("bound");
        let f = d.join("big");
        fs::write(&f, vec![b'x'; 1000]).expect("write");
        assert_eq!(
            read_bounded(&f, 1000, "a config").expect("fits").len(),
            1000
        );
        let e = read_bounded(&f, 999, "a switch configuration").expect_err("too big");
        assert!(
            e.to_string()
                .contains("is it really a switch configuration"),
            "{e}"
        );
        let e = read_bounded(&d.join("nope"), 10, "x").expect_err("missing");
        let text = e.to_string();
        assert_eq!(
            text.matches("nope").count(),
            1,
            "the path is said once: {text}"
        );
    }
}
