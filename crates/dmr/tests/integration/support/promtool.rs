//! `promtool`, from Debian's `prometheus` package: scripts/test-services.sh installs it
//! where missing and sets `DMR_PROMTOOL`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository's root, where `deploy/` and `docs/` are.
pub const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

pub fn repo_file(path: &str) -> PathBuf {
    Path::new(REPO).join(path)
}

fn binary() -> PathBuf {
    super::installed_tool(
        "DMR_PROMTOOL",
        "promtool",
        "It comes with Debian's `prometheus` package (apt-get install --no-install-recommends prometheus)",
    )
}

/// Runs `promtool ARGS` in `dir`, given `stdin` if any, and panics with its output unless
/// it succeeds.
pub fn check(dir: &Path, args: &[&str], stdin: Option<&[u8]>) {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning promtool");
    if let Some(input) = stdin {
        // promtool reads all of stdin before it writes much, so writing first does not
        // deadlock; a write error means it exited early, and its output below says why.
        let _ = child.stdin.take().unwrap().write_all(input);
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool {} failed ({}):\n{}{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
