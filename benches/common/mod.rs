//! What the rendering benches draw (`benches/tui.py` builds the same answer).

/// The answer lengths measured: a typical long answer, and a huge one.
pub const SIZES: [usize; 2] = [10_000, 1_000_000];

/// About `len` bytes of a typical answer: prose, a list, a table, code.
pub fn sample_answer(len: usize) -> String {
    let chunk = "## Section\n\nSome **bold** prose with `inline code`, a [link](https://example.com) and 中文 text that wraps.\n\n- first item\n- second item with *emphasis*\n  1. nested\n\n| a | b |\n|---|---|\n| 1 | two |\n\n```rust\nfn main() {\n    let x = vec![1, 2, 3];\n    println!(\"{x:?}\");\n}\n```\n\n";
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        s.push_str(&chunk.replace("x = vec", &format!("x{i} = vec")));
        i += 1;
    }
    s
}
