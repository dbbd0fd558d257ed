//! The binary run as a user would, in a sandboxed home, for the command tests.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `duel ARGS` with nothing of the real environment but PATH: home, config dir and
/// data dir all under `home`, and no stdin.
pub fn duel(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_duel"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("xdg"))
        .env("DUEL_DATA_DIR", home.join("data"))
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd` to the end: exit code (-1 on a signal), stdout, stderr.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run duel");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}
