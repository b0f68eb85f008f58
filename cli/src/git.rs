//! A project's `.feat` files at a git revision, read with the git command line
//! (`featc diff --git REV`): named as the working tree's files are, so the two sides
//! line up file for file.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `.feat` files under `project` (a folder or one file) at revision `rev`, as
/// (name, bytes) sorted by path. Names are `project` joined with the path below it,
/// as `featc::files::read_project` names the working tree's files.
pub fn read_revision(rev: &str, project: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let is_dir = project.is_dir();
    let dir = if is_dir {
        project.to_path_buf()
    } else {
        match project.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    };
    let toplevel = PathBuf::from(git_text(&dir, &["rev-parse", "--show-toplevel"])?);
    let prefix = git_text(&dir, &["rev-parse", "--show-prefix"])?;
    let commit = format!("{rev}^{{commit}}");
    git_text(&dir, &["rev-parse", "--verify", "--quiet", &commit]).map_err(|_| {
        format!(
            "`{rev}` is not a revision of the git repository at `{}`",
            toplevel.display()
        )
    })?;
    // The pathspec, from the repository's top: the folder (its prefix), or the file.
    let spec = match (is_dir, project.file_name()) {
        (true, _) if prefix.is_empty() => ".".to_string(),
        (true, _) => prefix.clone(),
        (false, Some(name)) => format!("{prefix}{}", name.to_string_lossy()),
        (false, None) => return Err(format!("`{}` is not a file or folder", project.display())),
    };
    let listed = git(
        &toplevel,
        &["ls-tree", "-r", "--name-only", "-z", rev, "--", &spec],
    )?;
    let mut found: Vec<(PathBuf, String)> = Vec::new();
    for path in listed.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let path = String::from_utf8_lossy(path).into_owned();
        if !path.ends_with(".feat") {
            continue;
        }
        let name = if is_dir {
            let below = path.strip_prefix(prefix.as_str()).unwrap_or(&path);
            project.join(below)
        } else {
            project.to_path_buf()
        };
        found.push((name, path));
    }
    if found.is_empty() {
        return Err(format!(
            "no .feat files in `{}` at revision `{rev}`",
            project.display()
        ));
    }
    found.sort();
    found
        .into_iter()
        .map(|(name, path)| {
            let bytes = git(&toplevel, &["show", &format!("{rev}:{path}")])?;
            Ok((name.display().to_string(), bytes))
        })
        .collect()
}

/// `git -C dir ARGS`'s standard output, or its error message.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let message = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(format!("git {}: {message}", args.join(" ")));
    }
    Ok(out.stdout)
}

/// `git` with its output as one trimmed line of text.
fn git_text(dir: &Path, args: &[&str]) -> Result<String, String> {
    git(dir, args).map(|o| String::from_utf8_lossy(&o).trim().to_string())
}
