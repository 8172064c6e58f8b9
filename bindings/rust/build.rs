//! Finds librecur and tells rustc how to link it (docs/rust.md, "Linking").
//!
//! Places tried, in order:
//!   1. `$RECUR_LIB_DIR`: if it is set, nothing else is tried (an explicit
//!      choice is never silently ignored) and it must hold librecur.so;
//!   2. `pkg-config --libs-only-L recur` (after `make install`);
//!   3. the repository's own build: `../../build/lib` from this crate (`make lib`);
//!   4. otherwise only `-lrecur`, left to the linker's default directories,
//!      with a warning naming the places above.
//!
//! The directory found goes into the link search path and into an rpath of
//! this crate's tests and examples, so they run without LD_LIBRARY_PATH.
//! Cargo does not pass link arguments on to crates that depend on this one:
//! they read the directory from `DEP_RECUR_LIB_DIR` (see `links` in Cargo.toml).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const LIBRARY_FILE: &str = "librecur.so";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RECUR_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_LIBDIR");

    match find_library() {
        Found::Directory(dir, how) => {
            let dir = dir.canonicalize().unwrap_or(dir);
            let shown = dir.display();
            println!("cargo:rustc-link-search=native={shown}");
            println!("cargo:rustc-link-arg=-Wl,-rpath,{shown}");
            println!("cargo:lib_dir={shown}");
            // A rebuilt library needs no rebuild of the crate (it is linked
            // dynamically), but a library that moves in or out does.
            println!("cargo:rerun-if-changed={}", dir.join(LIBRARY_FILE).display());
            eprintln!("recur: linking {} ({how})", dir.join(LIBRARY_FILE).display());
        }
        Found::SystemDirectory => {
            // pkg-config knows the package but prints no -L: the library is in
            // a directory the linker and the loader search anyway.
            eprintln!("recur: linking -lrecur from a system directory (pkg-config)");
        }
        Found::Nothing(tried, repository_library) => {
            // A path that does not exist makes cargo rerun this script on
            // every build: so `make lib` afterwards is picked up.
            println!("cargo:rerun-if-changed={}", repository_library.display());
            println!(
                "cargo:warning=recur: librecur.so not found ({}); linking -lrecur from the linker's default \
                 directories. Build it with `make lib` in the repository or set RECUR_LIB_DIR.",
                tried.join("; ")
            );
        }
    }
    println!("cargo:rustc-link-lib=dylib=recur");
}

enum Found {
    Directory(PathBuf, &'static str),
    SystemDirectory,
    /// What was tried, and the repository's library path (watched for it to appear).
    Nothing(Vec<String>, PathBuf),
}

fn find_library() -> Found {
    if let Some(dir) = env::var_os("RECUR_LIB_DIR").filter(|dir| !dir.is_empty()) {
        let dir = PathBuf::from(dir);
        if !dir.join(LIBRARY_FILE).is_file() {
            panic!(
                "recur: RECUR_LIB_DIR is {} but it holds no {LIBRARY_FILE} (unset it to search elsewhere)",
                dir.display()
            );
        }
        return Found::Directory(dir, "RECUR_LIB_DIR");
    }

    let mut tried = vec!["RECUR_LIB_DIR is not set".to_string()];
    match pkg_config_dirs() {
        Ok(dirs) if dirs.is_empty() => return Found::SystemDirectory,
        Ok(dirs) => {
            // The first -L directory that holds the library; pkg-config may
            // also list the directories of other packages' flags.
            if let Some(dir) = dirs.iter().find(|dir| dir.join(LIBRARY_FILE).is_file()) {
                return Found::Directory(dir.clone(), "pkg-config");
            }
            tried.push(format!("pkg-config's -L directories {dirs:?} hold no {LIBRARY_FILE}"));
        }
        Err(why) => tried.push(why),
    }

    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let repository = manifest_dir.join("../../build/lib");
    if repository.join(LIBRARY_FILE).is_file() {
        return Found::Directory(repository, "the repository's build/lib");
    }
    let library = repository.join(LIBRARY_FILE);
    tried.push(format!("{} does not exist", library.display()));
    Found::Nothing(tried, library)
}

/// The -L directories of `pkg-config --libs-only-L recur`, or why there are none.
fn pkg_config_dirs() -> Result<Vec<PathBuf>, String> {
    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let output = Command::new(&program)
        .args(["--libs-only-L", "recur"])
        .output()
        .map_err(|error| format!("{program} could not run ({error})"))?;
    if !output.status.success() {
        return Err(format!("{program} does not know the package recur"));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .split_whitespace()
        .filter_map(|flag| flag.strip_prefix("-L"))
        .map(|dir| Path::new(dir).to_path_buf())
        .collect())
}
