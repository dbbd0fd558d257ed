//! Runs the real `duel` binary in a pseudo-terminal and reads its screen through a
//! `vt100` parser, as a user's terminal would show it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const ROWS: u16 = 30;
pub const COLS: u16 = 110;

/// The screens the checks read: a small terminal and a roomy one (rows, columns).
pub const SIZES: [(u16, u16); 2] = [(24, 80), (35, 120)];

pub struct Tui {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    /// Every byte duel wrote, for what the screen does not keep (frame markers).
    raw: Arc<Mutex<Vec<u8>>>,
    _master: Box<dyn MasterPty + Send>,
}

/// A scratch home for one run: config and data live in a temp dir.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.path().join("data")
    }

    pub fn write_config(&self, toml: &str) -> PathBuf {
        let path = self.path().join("config.toml");
        std::fs::write(&path, toml).expect("write the test config");
        path
    }

    /// The command with a clean environment pointing into the sandbox.
    pub fn command(&self, args: &[&str]) -> CommandBuilder {
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_duel"));
        cmd.args(args);
        self.environment(cmd)
    }

    /// The command on a disk that is full past `bytes` bytes of any file (the shell's
    /// file-size limit, in 512-byte blocks; a write past it fails as on a full disk).
    pub fn command_on_a_small_disk(&self, bytes: u64, args: &[&str]) -> CommandBuilder {
        let mut cmd = CommandBuilder::new("sh");
        cmd.arg("-c");
        cmd.arg(format!(
            "ulimit -f {}; trap '' XFSZ; exec \"$0\" \"$@\"",
            bytes / 512
        ));
        cmd.arg(env!("CARGO_BIN_EXE_duel"));
        cmd.args(args);
        self.environment(cmd)
    }

    fn environment(&self, mut cmd: CommandBuilder) -> CommandBuilder {
        cmd.env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", self.path());
        cmd.env("XDG_CONFIG_HOME", self.path().join("xdg"));
        cmd.env("DUEL_DATA_DIR", self.data_dir());
        cmd.env("USER", "pty-tester");
        cmd.cwd(self.path());
        cmd
    }
}

impl Tui {
    pub fn spawn(cmd: CommandBuilder) -> Tui {
        Self::spawn_sized(cmd, ROWS, COLS)
    }

    /// The command on a terminal of `rows` × `cols`.
    pub fn spawn_sized(cmd: CommandBuilder, rows: u16, cols: u16) -> Tui {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let child = pty.slave.spawn_command(cmd).expect("spawn duel");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            rows.try_into().expect("rows"),
            cols.try_into().expect("cols"),
            0,
        )));
        let sink = Arc::clone(&parser);
        let raw = Arc::new(Mutex::new(Vec::new()));
        let raw_sink = Arc::clone(&raw);
        // Always drain the pty: a full buffer would block the child.
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("parser lock").process(&buf[..n]);
                raw_sink
                    .lock()
                    .expect("raw lock")
                    .extend_from_slice(&buf[..n]);
            }
        });
        Tui {
            child,
            writer,
            parser,
            raw,
            _master: pty.master,
        }
    }

    /// Every byte duel wrote so far.
    pub fn output(&self) -> Vec<u8> {
        self.raw.lock().expect("raw lock").clone()
    }

    pub fn screen(&self) -> String {
        self.parser.lock().expect("parser lock").screen().contents()
    }

    /// Runs `check` on the vt100 screen.
    pub fn with_screen<T>(&self, check: impl FnOnce(&vt100::Screen) -> T) -> T {
        check(self.parser.lock().expect("parser lock").screen())
    }

    /// Waits until the screen shows `text`; fails the test with the screen if not.
    pub fn wait_for(&self, text: &str, timeout: Duration) {
        self.wait_until(&format!("{text:?} on screen"), timeout, |s| {
            s.contains(text)
        });
    }

    pub fn wait_until(&self, what: &str, timeout: Duration, check: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if check(&screen) {
                return;
            }
            if Instant::now() >= deadline {
                panic!("timed out waiting for {what}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let mut buf = [0u8; 4];
            self.send(c.encode_utf8(&mut buf).as_bytes());
            // Typed, not pasted: one key at a time.
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Sends a signal to the process, as `kill -SIGNAL` would.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.process_id().expect("the child's pid");
        let status = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// The most memory the process has held so far (VmHWM), in MB.
    pub fn peak_memory_mb(&self) -> u64 {
        let pid = self.child.process_id().expect("the child's pid");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> u32 {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                // Let the reader thread take in the last bytes (the terminal restore).
                std::thread::sleep(Duration::from_millis(100));
                return status.exit_code();
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("duel did not exit; the screen shows:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}
