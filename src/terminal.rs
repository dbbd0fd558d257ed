//! The terminal while a TUI is up, for the chat and `duel review` alike: raw mode and
//! the alternate screen in, and always out again (after a quit, a signal or a panic);
//! the signals that end the app cleanly; the exit code after SIGINT.

use std::io::stdout;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::EndSynchronizedUpdate;
use futures_util::{Stream, StreamExt, stream};

use crate::app::{Msg, State};
use crate::{run, say, theme};

/// 130 when SIGINT ended the TUI, as shells expect; else 0.
pub fn exit_code() -> u8 {
    if INTERRUPTED.load(Ordering::SeqCst) {
        130
    } else {
        0
    }
}

/// The runtime a TUI runs on: the loop (keys, `update`, the draw) on the calling
/// thread, the streams' reads and decoding on one worker. A side's events cross to
/// the loop at most once a frame (`run::forward`), so a token wakes no second thread,
/// while a flooding server is read beside the draw rather than between frames. (The
/// default, a worker a core, woke a second worker to steal each token's task.)
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
}

/// Runs the app on the real terminal and always gives the terminal back.
pub async fn on_terminal(
    state: State,
    theme: theme::Theme,
    store: std::sync::Arc<dyn duel_core::store::Store>,
) -> anyhow::Result<State> {
    let crash_path = state.data_dir.join(CRASH_FILE);
    // Raw mode and the alternate screen; the terminal that draws is one of a fixed
    // size, resized on the terminal's resize events.
    drop(ratatui::init());
    // A frame goes out in one write: stdout's own buffer is a line buffer of 1 KiB
    // that scans every piece for a newline and writes a large frame in several goes.
    let out = std::io::BufWriter::with_capacity(1 << 16, stdout());
    let mut terminal = match run::fixed_terminal(ratatui::backend::CrosstermBackend::new(out)) {
        Ok(terminal) => terminal,
        Err(e) => {
            restore_terminal();
            return Err(e.into());
        }
    };
    // Replaces ratatui's hook, which restores the terminal but then lets the default
    // hook print a backtrace — over the panes, when the panic is in a task the app
    // would survive. A bug anywhere ends duel: terminal first, then one line.
    std::panic::set_hook(Box::new(move |info| crash(info, &crash_path)));
    let _ = execute!(stdout(), EnableBracketedPaste, EnableMouseCapture);
    match std::env::var("DUEL_DEBUG_PANIC").as_deref() {
        // Hidden switches for the terminal-restore tests: a panic on the main thread,
        // or in a task while the screen is up.
        #[allow(clippy::panic)]
        Ok("task") => {
            tokio::spawn(async {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                panic!("DUEL_DEBUG_PANIC is set");
            });
        }
        #[allow(clippy::panic)]
        Ok(_) => panic!("DUEL_DEBUG_PANIC is set"),
        Err(_) => {}
    }

    let result = run::run_with(
        &mut terminal,
        state,
        theme,
        stream::select(terminal_events(), terminations()).boxed(),
        store,
    )
    .await;

    // What is left of a frame goes to the screen it was meant for, before it is left.
    let _ = std::io::Write::flush(terminal.backend_mut());
    restore_terminal();
    result
}

/// The terminal's events, read on a thread of their own and handed over a channel.
/// crossterm's `EventStream` tried its reader's lock each time the loop polled it
/// (after every message) while its own waiting thread held that lock, spinning
/// (`sched_yield`) once a message; here the lock has one user, and a stream of tokens
/// costs the loop nothing on this side. The thread ends at the first event after the
/// app is gone, or with the process.
fn terminal_events() -> impl Stream<Item = Msg> + Send {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while let Ok(event) = crossterm::event::read() {
            let sent = run::msg_from_event(event).map_or(Ok(()), |msg| tx.send(msg));
            if sent.is_err() || tx.is_closed() {
                break;
            }
        }
    });
    stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Where a panic's details go: the data dir, beside the logs.
const CRASH_FILE: &str = "duel-crash.log";

/// Ends a frame in progress, turns bracketed paste and the mouse off, shows the
/// cursor, leaves raw mode and the alternate screen.
fn restore_terminal() {
    let _ = execute!(
        stdout(),
        EndSynchronizedUpdate,
        DisableBracketedPaste,
        DisableMouseCapture,
        crossterm::cursor::Show
    );
    ratatui::restore();
}

/// A bug ends duel: the terminal first, then one line, the details in the crash file.
fn crash(info: &std::panic::PanicHookInfo, path: &Path) -> ! {
    restore_terminal();
    let report = crash_report(info);
    tracing::error!("{report}");
    let kept = std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).and_then(|()| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        std::io::Write::write_all(&mut file, report.as_bytes())
    });
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    match kept {
        Ok(()) => say!(
            "internal error, sorry: {message}; details in {}",
            path.display()
        ),
        Err(_) => say!("internal error, sorry: {message}"),
    }
    std::process::exit(101);
}

/// A panic, where it happened and the stack, for the crash file.
fn crash_report(info: &std::panic::PanicHookInfo) -> String {
    format!(
        "{} duel {}: {info}\n{}\n",
        jiff::Timestamp::now(),
        env!("CARGO_PKG_VERSION"),
        std::backtrace::Backtrace::force_capture()
    )
}

/// Set when SIGINT ended the TUI: duel then exits 130, as shells expect.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// SIGTERM, SIGHUP and SIGINT (`kill -INT`; in raw mode Ctrl+C is a key) end the app
/// the same way as Ctrl+Q: cleanly, terminal restored, votes on disk.
fn terminations() -> impl Stream<Item = Msg> + Send {
    use tokio::signal::unix::{SignalKind, signal};
    let signals = [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
    ]
    .into_iter()
    .filter_map(|kind| Some((kind, signal(kind).ok()?)));
    stream::select_all(signals.map(|(kind, sig)| {
        stream::unfold(sig, move |mut sig| async move {
            sig.recv().await?;
            if kind == SignalKind::interrupt() {
                INTERRUPTED.store(true, Ordering::SeqCst);
            }
            Some((Msg::Terminate, sig))
        })
        .boxed()
    }))
}
