//! stream.rs: Recur from Rust: load a bundled model, feed it a stream one
//! step at a time, print what comes out (the Rust twin of examples/cpp/stream.cpp).
//!
//! Run from the repository root:
//!   cargo run --manifest-path bindings/rust/Cargo.toml --example stream [MODEL_JSON]
//! (default examples/models/tiny_lstm.json; Tests/cpp/check_stream.sh checks the output).

use std::process::ExitCode;

fn main() -> ExitCode {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/models/tiny_lstm.json".to_string());
    match stream(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("stream: {error}");
            ExitCode::FAILURE
        }
    }
}

fn stream(path: &str) -> recur::Result<()> {
    let model = recur::Model::load(path)?;
    println!(
        "{path}: {} inputs -> {} layers -> {} outputs, {} parameters (Recur {}, {} kernels)",
        model.input_size(),
        model.layer_count(),
        model.output_size(),
        model.parameter_count(),
        recur::version(),
        recur::cpu_kernels()
    );

    // The inputs of examples/models/make_tiny_lstm.py (it prints the outputs they must give).
    let inputs: [[f32; 2]; 6] = [
        [1.0, 0.0],
        [0.5, -0.5],
        [0.0, 1.0],
        [-1.0, 0.25],
        [0.25, 0.75],
        [0.0, 0.0],
    ];

    let mut state = model.state(1)?; // one stream, starting at zero
    let mut y = vec![0.0f32; state.output_size()];
    println!("  step     x[0]     x[1]            y");
    for (t, x) in inputs.iter().enumerate() {
        state.step(x, &mut y)?; // writes into y: no allocation per step
        println!("  {:4} {:8.3} {:8.3} {:12.7}", t + 1, x[0], x[1], y[0]);
    }

    // Sizes are checked before the library is called: a wrong-sized input
    // is an Error with the status and a message, never a read past the slice.
    if let Err(error) = state.step(&[1.0, 2.0, 3.0], &mut y) {
        println!(
            "a 3-value input: {} (status {}: {})",
            error.message,
            error.status.code(),
            error.status
        );
    }
    Ok(())
}
