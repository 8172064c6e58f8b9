//! Streams of different lengths (State::run_lengths) against the cases of
//! Tests/testdata/sequences: the reference outputs and final states, each
//! stream bit for bit as when run alone for its own length, padding never read.

mod common;

use common::{assert_values_close, bidirectional, case, case_names, same_bits, Value};
use recur::{Model, Status};

/// The cases with lengths whose layers all run forward: these tests compare
/// states, which a model with a bidirectional layer does not keep (its
/// outputs with lengths are checked in reference.rs, when the library has them).
fn length_cases() -> Vec<(String, Value)> {
    let cases: Vec<(String, Value)> = case_names("sequences")
        .into_iter()
        .map(|name| {
            let case = case(&name);
            (name, case)
        })
        .filter(|(_, case)| case.opt("lengths").is_some() && !bidirectional(case))
        .collect();
    assert!(cases.len() >= 4, "too few length cases: {}", cases.len());
    cases
}

struct Case {
    model: Model,
    batch: usize,
    steps: usize,
    lengths: Vec<usize>,
    x: Vec<f32>,
}

fn load(case: &Value) -> Case {
    Case {
        model: Model::from_json(&case.get("model").to_json()).unwrap(),
        batch: case.get("batch").as_usize(),
        steps: case.get("steps").as_usize(),
        lengths: case.get("lengths").usizes(),
        x: case.get("input").f32s(),
    }
}

#[test]
fn outputs_and_final_states_match_the_reference() {
    for (name, case) in length_cases() {
        let c = load(&case);
        let output = c.model.output_size();
        let mut state = c.model.state(c.batch).unwrap();
        let mut y = vec![f32::NAN; c.batch * c.steps * output];
        state.run_lengths(&c.x, c.steps, &c.lengths, &mut y).unwrap();
        assert_values_close(&y, &case.get("output").f64s(), &format!("{name}: output"));
        assert_values_close(
            &state.get().unwrap(),
            &case.get("final_state").f64s(),
            &format!("{name}: final state"),
        );
        for (b, &length) in c.lengths.iter().enumerate() {
            let past = &y[(b * c.steps + length) * output..(b + 1) * c.steps * output];
            assert!(
                past.iter().all(|&v| v == 0.0),
                "{name}: stream {b}'s outputs past its length are 0"
            );
        }
    }
}

#[test]
fn each_stream_gives_the_bits_it_gives_alone_and_padding_is_never_read() {
    for (name, case) in length_cases() {
        let c = load(&case);
        let (input, output, size) = (c.model.input_size(), c.model.output_size(), c.model.state_size());
        let mut batched = c.model.state(c.batch).unwrap();
        let mut y = vec![0.0; c.batch * c.steps * output];
        batched.run_lengths(&c.x, c.steps, &c.lengths, &mut y).unwrap();
        let batched_state = batched.get().unwrap();

        let mut poisoned = c.x.clone();
        for (b, &length) in c.lengths.iter().enumerate() {
            // NaN is refused wherever it is read: past a length it never is.
            poisoned[(b * c.steps + length) * input..(b + 1) * c.steps * input].fill(f32::NAN);

            let mut alone = c.model.state(1).unwrap();
            if length > 0 {
                let x = &c.x[b * c.steps * input..(b * c.steps + length) * input];
                let mut y_alone = vec![0.0; length * output];
                alone.run(x, length, &mut y_alone).unwrap();
                let start = b * c.steps * output;
                assert!(
                    same_bits(&y_alone, &y[start..start + length * output]),
                    "{name}: stream {b} output"
                );
            }
            let state = &batched_state[b * size..(b + 1) * size];
            assert!(same_bits(&alone.get().unwrap(), state), "{name}: stream {b} state");
        }

        let mut again = c.model.state(c.batch).unwrap();
        let mut y_poisoned = vec![0.0; y.len()];
        again
            .run_lengths(&poisoned, c.steps, &c.lengths, &mut y_poisoned)
            .unwrap();
        assert!(same_bits(&y_poisoned, &y), "{name}: padding was read");
    }
}

#[test]
fn lengths_are_checked_and_a_refused_run_changes_nothing() {
    let (_, case) = length_cases().into_iter().next().unwrap();
    let c = load(&case);
    let output = c.model.output_size();
    let mut state = c.model.state(c.batch).unwrap();
    let mut y = vec![0.0; c.batch * c.steps * output];
    state.run_lengths(&c.x, c.steps, &c.lengths, &mut y).unwrap();
    let before = state.get().unwrap();

    // One length per stream, checked here before the call.
    let error = state.run_lengths(&c.x, c.steps, &c.lengths[1..], &mut y).unwrap_err();
    assert_eq!(error.status, Status::Shape);
    assert!(error.message.contains("lengths has"), "{}", error.message);

    // A length above steps: the library refuses it and names the stream.
    let mut too_long = c.lengths.clone();
    too_long[1] = c.steps + 1;
    let error = state.run_lengths(&c.x, c.steps, &too_long, &mut y).unwrap_err();
    assert_eq!(error.status, Status::InvalidArgument);
    assert!(error.message.contains("lengths[1]"), "{}", error.message);

    assert!(
        same_bits(&state.get().unwrap(), &before),
        "a refused run leaves the state unchanged"
    );
}
