//! Random mutations of the starter config (config.example.toml): loading one never
//! panics, and either works or names the file, line and column of the problem; the
//! binary exits 0 or 2, never anything else, and never prints a backtrace.

use std::path::Path;

use crate::common;
use duel::config::{self, ConfigError};
use proptest::prelude::*;

/// This file's runs, from its own fixed seed.
fn cases(cases: u32) -> ProptestConfig {
    common::props::config(cases, 0xc0f1_6a7e)
}

/// One change to the text; positions are taken modulo its length.
#[derive(Clone, Debug)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Truncate(usize),
}

/// What a mutation inserts: TOML's own syntax, values of the wrong type, huge and
/// odd numbers, control and bidi characters, CJK.
fn snippet() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "[",
            "]",
            "[[",
            "]]",
            "=",
            "\"",
            "'",
            "'''",
            "\"\"\"",
            "\n",
            "{",
            "}",
            ",",
            ".",
            "#",
            "[[models]]\n",
            "[providers.x]\n",
            "[pair]\n",
            "[ui]\n",
            "[arena]\n",
            "name = \"qwen-plus\"\n",
            "kind = \"ernie\"\n",
            "kind = \"demo\"\n",
            "base_url = \"\"\n",
            "provider = \"nowhere\"\n",
            "= 1e999",
            "= -0",
            "= nan",
            "= 99999999999999999999",
            "= true",
            "= []",
            "= {}",
            "= 1979-05-27T07:32:00Z",
            "temperature = -3\n",
            "max_tokens = 0\n",
            "idle_timeout_secs = 0\n",
            "\u{0}",
            "\u{1b}[2J",
            "\u{202e}",
            "\t",
            "\r",
            "\r\n",
            "名字",
            "🦀",
        ])
        .prop_map(str::to_owned),
        "[a-z_.]{1,10}",
        "-?[0-9]{1,25}",
        any::<char>().prop_map(String::from),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), snippet()).prop_map(|(at, text)| Edit::Insert { at, text }),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// The nearest character boundary at or before `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &mut String, edit: &Edit) {
    match edit {
        Edit::Delete { at, len } => {
            let start = boundary(text, *at);
            let end = boundary(text, (start + len).min(text.len()));
            text.replace_range(start..end.max(start), "");
        }
        Edit::Insert { at, text: new } => {
            let at = boundary(text, *at);
            text.insert_str(at, new);
        }
        Edit::DuplicateLine(n) | Edit::SwapLines(n, _) => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            let i = n % lines.len();
            if let Edit::SwapLines(_, m) = edit {
                let j = m % lines.len();
                lines.swap(i, j);
            } else {
                lines.insert(i, lines[i]);
            }
            *text = lines.join("\n");
        }
        Edit::Truncate(at) => {
            let at = boundary(text, *at);
            text.truncate(at);
        }
    }
}

fn mutated(edits: &[Edit]) -> String {
    let mut text = config::EXAMPLE.to_owned();
    for edit in edits {
        apply(&mut text, edit);
    }
    text
}

/// A failure names the file and a line and column inside it.
fn assert_located(error: &ConfigError, path: &Path, text: &str) {
    let shown = error.to_string();
    assert!(
        error.line >= 1 && error.column >= 1,
        "no line and column: {shown}\n--- config ---\n{text}"
    );
    assert!(
        error.line <= text.split('\n').count(),
        "line {} is past the end: {shown}",
        error.line
    );
    let place = format!("{}:{}:{}: ", path.display(), error.line, error.column);
    assert!(shown.starts_with(&place), "{shown}");
}

proptest! {
    #![proptest_config(cases(400))]

    #[test]
    fn a_mutated_config_loads_or_names_its_line_and_column(
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let text = mutated(&edits);
        std::fs::write(&path, &text).expect("write");
        if let Err(error) = config::load_from(Some(&path), None) {
            assert_located(&error, &path, &text);
        }
    }
}

fn duel(home: &Path, config: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = common::cli::duel(home, &[])
        .arg("--config")
        .arg(config)
        .args(args)
        .env("DUEL_DEMO_DELAY_MS", "0")
        .output()
        .expect("run duel");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

proptest! {
    #![proptest_config(cases(40))]

    #[test]
    fn the_binary_exits_0_or_2_on_a_mutated_config(
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let home = tempfile::tempdir().expect("tempdir");
        let path = home.path().join("config.toml");
        let text = mutated(&edits);
        std::fs::write(&path, &text).expect("write");
        let broken = config::load_from(Some(&path), None).err();
        for args in [&["models", "--json"][..], &["--demo", "ask", "--json", "hi"], &["--demo"]] {
            let (code, stderr) = duel(home.path(), &path, args);
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            match &broken {
                Some(error) => {
                    assert_eq!(code, Some(2), "{args:?}: {stderr}");
                    assert!(stderr.contains(&error.to_string()), "{args:?}: {stderr}");
                }
                // Without a terminal the chat itself exits 2 with its own line.
                None if args == ["--demo"] => {
                    assert_eq!(code, Some(2), "{stderr}");
                    assert!(stderr.contains("needs a terminal"), "{stderr}");
                }
                None => assert_eq!(code, Some(0), "{args:?}: {stderr}"),
            }
        }
    }
}
