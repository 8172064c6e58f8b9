//! running-sum: a program of its own that depends on the `recur` crate by
//! path. It loads a model from JSON text, steps it, runs three streams at
//! once, and checks the numbers (the model computes them exactly).
//!
//!   cargo run --offline --manifest-path examples/rust/Cargo.toml

use std::process::ExitCode;

/// h_t = relu(h_{t-1} + x_t): a running sum that never goes below zero
/// (examples/models/running_sum.json).
const RUNNING_SUM: &str = r#"{
  "format": "recur", "version": 1, "input_size": 1,
  "layers": [{"type": "rnn", "hidden_size": 1, "activation": "relu",
              "weights": {"weight_ih": [[1.0]], "weight_hh": [[1.0]]}}]
}"#;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("running-sum: wrong numbers");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("running-sum: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> recur::Result<bool> {
    let model = recur::Model::from_json(RUNNING_SUM)?;
    println!(
        "Recur {}: a running sum, {} parameters",
        recur::version(),
        model.parameter_count()
    );

    // One stream, one step at a time.
    let mut state = model.state(1)?;
    let mut y = [0.0f32];
    let mut stepped = Vec::new();
    for x in [1.0f32, 2.0, -5.0, 4.0] {
        state.step(&[x], &mut y)?;
        println!("  x = {x:4}  ->  sum = {}", y[0]);
        stepped.push(y[0]);
    }

    // Three streams over four steps in one call: x is [batch][steps][input].
    let mut streams = model.state(3)?;
    let x = [
        1.0, 2.0, -5.0, 4.0, /* */ 0.5, 0.5, 0.5, 0.5, /* */ -1.0, 3.0, -1.0, -1.0,
    ];
    let mut ys = [0.0f32; 12];
    streams.run(&x, 4, &mut ys)?;
    println!("  three streams: {:?}", ys.chunks(4).collect::<Vec<_>>());

    Ok(stepped == [1.0, 3.0, 0.0, 4.0]
        && ys == [1.0, 3.0, 0.0, 4.0, 0.5, 1.0, 1.5, 2.0, 0.0, 3.0, 2.0, 1.0])
}
