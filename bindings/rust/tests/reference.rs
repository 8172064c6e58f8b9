//! The reference cases of Tests/testdata (PyTorch, float64) through the safe
//! API: forward outputs and final states, step-by-step against one run, and
//! training (losses, gradient norms, updated weights), within the README's
//! tolerances.

mod common;

use common::{assert_loss_close, assert_values_close, case, case_names, loadable_case_names, same_bits, Value};
use recur::Model;

fn model_of(case: &Value) -> Model {
    Model::from_json(&case.get("model").to_json()).expect("the case's model loads")
}

/// Runs a case's input from zero state; checks outputs and the final state.
fn check_forward(name: &str) {
    let case = case(name);
    let model = model_of(&case);
    let (batch, steps) = (case.get("batch").as_usize(), case.get("steps").as_usize());
    let x = case.get("input").f32s();
    let mut y = vec![0.0; batch * steps * model.output_size()];
    let mut state = model.state(batch).unwrap();
    state.run(&x, steps, &mut y).unwrap();
    assert_values_close(&y, &case.get("output").f64s(), &format!("{name}: output"));
    if let Some(final_state) = case.opt("final_state") {
        assert_values_close(
            &state.get().unwrap(),
            &final_state.f64s(),
            &format!("{name}: final state"),
        );
    }
}

#[test]
fn forward_rnn_lstm_gru_cases_match_pytorch() {
    for name in [
        "rnn_tanh.json",
        "rnn_relu_last.json",
        "lstm_clip.json",
        "lstm_nobias.json",
        "gru_long.json",
    ] {
        check_forward(name);
    }
}

#[test]
fn forward_every_reference_case_matches_pytorch() {
    let names = case_names("");
    assert!(names.len() >= 15, "the reference cases are missing: {names:?}");
    for name in &names {
        check_forward(name);
    }
}

#[test]
fn the_three_tensor_forms_load_the_same_weights() {
    let flat = model_of(&case("rnn_tanh.json"));
    for other in ["rnn_tanh_nested.json", "rnn_tanh_base64.json"] {
        let model = model_of(&case(other));
        for layer in 0..flat.layer_count() {
            for tensor in flat.tensor_names(layer).unwrap() {
                let (a, b) = (
                    flat.get_tensor(layer, tensor).unwrap(),
                    model.get_tensor(layer, tensor).unwrap(),
                );
                assert!(same_bits(&a, &b), "{other}: {tensor} of layer {layer}");
            }
        }
    }
}

#[test]
fn steps_one_at_a_time_give_the_bits_of_one_run() {
    let case = case("lstm_stack_softmax.json");
    let model = model_of(&case);
    let (batch, steps) = (case.get("batch").as_usize(), case.get("steps").as_usize());
    let (input, output) = (model.input_size(), model.output_size());
    let x = case.get("input").f32s();

    let mut run = model.state(batch).unwrap();
    let mut ys = vec![0.0; batch * steps * output];
    run.run(&x, steps, &mut ys).unwrap();

    let mut stepped = model.state(batch).unwrap();
    let (mut x_t, mut y_t) = (vec![0.0; batch * input], vec![0.0; batch * output]);
    for t in 0..steps {
        for b in 0..batch {
            let from = (b * steps + t) * input;
            x_t[b * input..(b + 1) * input].copy_from_slice(&x[from..from + input]);
        }
        stepped.step(&x_t, &mut y_t).unwrap();
        for b in 0..batch {
            let at = (b * steps + t) * output;
            assert!(
                same_bits(&y_t[b * output..(b + 1) * output], &ys[at..at + output]),
                "step {t}, stream {b}"
            );
        }
    }
    assert!(same_bits(&stepped.get().unwrap(), &run.get().unwrap()));
}

/// Trains a case's model as its `train` says; checks every loss and
/// gradient norm, then the updated weights.
fn check_training(name: &str) {
    let case = case(name);
    let train = case.get("train");
    let mut model = model_of(&case);
    let (batch, steps) = (case.get("batch").as_usize(), case.get("steps").as_usize());
    let x = case.get("input").f32s();
    let lengths = case.opt("lengths").map(Value::usizes);
    {
        let mut trainer = model.trainer(&train.get("config").to_json()).unwrap();
        let losses = train.get("losses").f64s();
        let norms = train.get("gradient_norms").f64s();
        assert_eq!(losses.len(), train.get("steps").as_usize());
        for (step, (&loss, &norm)) in losses.iter().zip(&norms).enumerate() {
            let got = match (train.opt("labels"), &lengths) {
                (Some(labels), None) => trainer.step_labels(&x, batch, steps, &labels.i32s()),
                (Some(labels), Some(lengths)) => trainer.step_labels_lengths(&x, batch, steps, lengths, &labels.i32s()),
                (None, None) => trainer.step(&x, batch, steps, &train.get("target").f32s()),
                (None, Some(lengths)) => trainer.step_lengths(&x, batch, steps, lengths, &train.get("target").f32s()),
            }
            .unwrap();
            assert_loss_close(got, loss, &format!("{name}: loss of step {step}"));
            assert_loss_close(
                trainer.last_gradient_norm(),
                norm,
                &format!("{name}: gradient norm of step {step}"),
            );
        }
    }
    let updated = Model::from_json(&train.get("updated_model").to_json()).unwrap();
    for layer in 0..model.layer_count() {
        for tensor in model.tensor_names(layer).unwrap() {
            assert_values_close(
                &model.get_tensor(layer, tensor).unwrap(),
                &updated
                    .get_tensor(layer, tensor)
                    .unwrap()
                    .iter()
                    .map(|&v| v as f64)
                    .collect::<Vec<_>>(),
                &format!("{name}: updated {tensor} of layer {layer}"),
            );
        }
    }
}

#[test]
fn a_trainer_step_reports_the_reference_loss() {
    // One step of plain SGD on mse: the loss and the first gradients.
    let case = case("rnn_tanh.json");
    let train = case.get("train");
    let mut model = model_of(&case);
    let (batch, steps) = (case.get("batch").as_usize(), case.get("steps").as_usize());
    let mut trainer = model.trainer(&train.get("config").to_json()).unwrap();
    assert!(!trainer.targets_last());
    assert_eq!(trainer.last_gradient_norm(), 0.0, "no gradient before the first step");
    let loss = trainer
        .step(&case.get("input").f32s(), batch, steps, &train.get("target").f32s())
        .unwrap();
    assert_loss_close(loss, train.get("losses").as_array()[0].as_f64(), "rnn_tanh: first loss");
    let first = &train.get("first_gradients").as_array()[0];
    for tensor in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
        assert_values_close(&trainer.gradient(0, tensor).unwrap(), &first.get(tensor).f64s(), tensor);
    }
}

#[test]
fn training_every_reference_case_matches_pytorch() {
    let names: Vec<String> = case_names("")
        .into_iter()
        .filter(|name| case(name).opt("train").is_some())
        .collect();
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        check_training(name);
    }
}

#[test]
fn forward_sequences_cases_match_pytorch() {
    // sequences/ without lengths: every stream at full length (bidirectional
    // layers, when the library has them; the lengths cases are in lengths.rs).
    for name in loadable_case_names("sequences") {
        if case(&name).opt("lengths").is_none() {
            check_forward(&name);
        }
    }
}

#[test]
fn training_sequences_cases_match_pytorch() {
    // With lengths (step_lengths, step_labels_lengths) and, when the library
    // has them, bidirectional layers.
    let names: Vec<String> = loadable_case_names("sequences")
        .into_iter()
        .filter(|name| case(name).opt("train").is_some())
        .collect();
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        check_training(name);
    }
}
