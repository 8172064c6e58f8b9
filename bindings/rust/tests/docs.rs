//! docs/rust.md's ```rust and ```toml blocks are copies of code that these
//! tests build and run (Tests/docs/check_docs.py has no Rust checker, so
//! they carry a skip mark naming their source). This checks that each block
//! still appears, line for line, in the file its mark names.

mod common;

/// A line compared without its doc-comment prefix and with runs of spaces as one.
fn normalize(line: &str) -> String {
    let line = line.trim();
    let line = ["//! ", "/// ", "//!", "///"]
        .iter()
        .find_map(|prefix| line.strip_prefix(prefix))
        .unwrap_or(line);
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_rust_and_toml_block_of_the_guide_is_tested_code() {
    let root = common::repository();
    let guide = std::fs::read_to_string(root.join("docs/rust.md")).unwrap();
    let lines: Vec<&str> = guide.lines().collect();
    let mut checked = 0;
    let mut at = 0;
    while at < lines.len() {
        let fence = lines[at].trim();
        let language = fence.strip_prefix("```").unwrap_or("");
        if !(language == "rust" || language == "toml") {
            at += 1;
            continue;
        }
        let end = at
            + 1
            + lines[at + 1..]
                .iter()
                .position(|line| line.trim() == "```")
                .expect("a closed block");
        let block: Vec<String> = lines[at + 1..end]
            .iter()
            .map(|line| normalize(line))
            .filter(|l| !l.is_empty())
            .collect();
        // The mark before the fence names the source: the first word with a '/' and a '.'.
        let mark = lines[..at].iter().rev().find(|line| !line.trim().is_empty()).unwrap();
        let source = mark
            .split_whitespace()
            .map(|word| word.trim_end_matches([',', ')']))
            .find(|word| word.contains('/') && word.contains('.'))
            .unwrap_or_else(|| panic!("docs/rust.md:{}: the mark names no source file: {mark}", at + 1));
        let text = std::fs::read_to_string(root.join(source)).unwrap_or_else(|e| panic!("{source}: {e}"));
        let source_lines: Vec<String> = text.lines().map(normalize).filter(|l| !l.is_empty()).collect();
        let found = source_lines
            .windows(block.len())
            .any(|window| window == block.as_slice());
        assert!(
            found,
            "docs/rust.md:{}: the block is no longer in {source}:\n{}",
            at + 1,
            block.join("\n")
        );
        checked += 1;
        at = end + 1;
    }
    assert!(checked >= 5, "only {checked} blocks checked");
}
