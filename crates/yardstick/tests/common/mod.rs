//! Helpers shared by the binary's test files: run `yardstick`, make a scratch folder,
//! generate data.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the binary: (stdout, stderr, exit code).
pub fn yardstick(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_yardstick")).args(args).output().expect("run yardstick");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// An empty folder of this test process.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("yardstick-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn generate(dir: &Path, tickets: &str, seed: &str) {
    let (_, err, code) = yardstick(&["generate", "--out", dir.to_str().unwrap(), "--tickets", tickets, "--seed", seed]);
    assert_eq!(code, 0, "{err}");
}
