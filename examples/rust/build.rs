// recur's build script found librecur and, through `links = "recur"`, tells
// this one where: put that directory in the program's rpath, so it runs
// without LD_LIBRARY_PATH (cargo does not pass a dependency's link
// arguments on). Not needed when the library is in a system directory.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_RECUR_LIB_DIR");
    if let Ok(dir) = std::env::var("DEP_RECUR_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
