//! Failures: each comes back as an Error with the library's status and
//! message (or this crate's, naming the argument, for a size it refused),
//! never as a panic or a short slice handed to the library.

mod common;

use common::{case, repository, same_bits, testdata};
use recur::{Error, Model, Status};

fn tiny_lstm() -> Model {
    Model::load(repository().join("examples/models/tiny_lstm.json")).unwrap()
}

#[test]
fn text_that_is_not_json_is_a_parse_error_with_the_librarys_message() {
    let error = Model::from_json("{\"format\": \"recur\", ").unwrap_err();
    assert_eq!(error.status, Status::Parse);
    assert!(!error.message.is_empty());
    assert_ne!(
        error.message,
        Status::Parse.description(),
        "the library's own message, not the status's"
    );
    let shown = error.to_string();
    assert!(shown.contains(&error.message) && shown.contains("status 2"), "{shown}");
}

#[test]
fn a_json_document_that_is_not_a_model_is_a_model_error() {
    let error = Model::from_json(r#"{"format": "recur", "version": 2}"#).unwrap_err();
    assert_eq!(error.status, Status::Model);
    assert!(error.message.contains("version"), "{}", error.message);
}

#[test]
fn every_invalid_document_gets_its_status_and_message() {
    let manifest = case("invalid/manifest.json");
    for entry in manifest.as_array() {
        let file = entry.get("file").as_str();
        let error = Model::load(testdata().join("invalid").join(file)).unwrap_err();
        // A null status in the manifest means any error status.
        if let common::Value::String(status) = entry.get("status") {
            let expected = match status.as_str() {
                "RECUR_ERROR_INVALID_ARGUMENT" => Status::InvalidArgument,
                "RECUR_ERROR_PARSE" => Status::Parse,
                "RECUR_ERROR_MODEL" => Status::Model,
                "RECUR_ERROR_IO" => Status::Io,
                "RECUR_ERROR_SHAPE" => Status::Shape,
                "RECUR_ERROR_NUMERIC" => Status::Numeric,
                other => panic!("{file}: unexpected status {other} in the manifest"),
            };
            assert_eq!(error.status, expected, "{file}: {}", error.message);
        }
        for part in entry.get("message_contains").as_array() {
            assert!(
                error.message.contains(part.as_str()),
                "{file}: {:?} lacks {:?}",
                error.message,
                part.as_str()
            );
        }
    }
}

#[test]
fn a_missing_file_is_an_io_error_naming_the_path() {
    let error = Model::load("/nonexistent/model.json").unwrap_err();
    assert_eq!(error.status, Status::Io);
    assert!(error.message.contains("/nonexistent/model.json"), "{}", error.message);
    let error = tiny_lstm().save("/nonexistent/dir/model.json").unwrap_err();
    assert_eq!(error.status, Status::Io);
}

#[test]
fn a_nul_byte_in_a_path_name_or_config_is_an_error_not_a_panic() {
    for error in [
        Model::load("examples/models\0/tiny_lstm.json").unwrap_err(),
        tiny_lstm().save("out\0.json").unwrap_err(),
        tiny_lstm().get_tensor(0, "weight_ih\0").unwrap_err(),
        tiny_lstm().trainer("{}\0").unwrap_err(),
    ] {
        assert_eq!(error.status, Status::InvalidArgument);
        assert!(error.message.contains("NUL"), "{}", error.message);
    }
}

#[test]
fn wrong_slice_lengths_are_refused_before_the_call_naming_the_argument() {
    let model = tiny_lstm(); // 2 inputs, 1 output, 8 floats of state
    let mut state = model.state(2).unwrap();
    let shape = |error: Error, context: &str, what: &str| {
        assert_eq!(error.status, Status::Shape, "{}", error.message);
        assert!(
            error.message.starts_with(&format!("{context}: {what} has ")),
            "{}",
            error.message
        );
    };
    let (mut y2, mut y1) = ([0.0f32; 2], [0.0f32; 1]);
    shape(state.step(&[1.0, 2.0], &mut y2).unwrap_err(), "State::step", "x");
    let error = state.step(&[1.0, 2.0, 3.0], &mut y2).unwrap_err();
    assert_eq!(
        error.message, "State::step: x has 3 values, expected 4 (batch 2 x input_size 2 = 4)",
        "the message gives the expected size and why"
    );
    shape(state.step(&[0.0; 4], &mut y1).unwrap_err(), "State::step", "y");
    shape(state.run(&[0.0; 4], 2, &mut [0.0; 4]).unwrap_err(), "State::run", "x");
    shape(state.run(&[0.0; 8], 2, &mut [0.0; 3]).unwrap_err(), "State::run", "y");
    shape(state.get_into(&mut [0.0; 15]).unwrap_err(), "State::get", "out");
    shape(state.set(&[0.0; 17]).unwrap_err(), "State::set", "values");

    let error = state.run(&[], 0, &mut []).unwrap_err();
    assert_eq!(error.status, Status::InvalidArgument);
    assert!(error.message.contains("steps is 0"), "{}", error.message);

    // Sizes whose product overflows usize are a Shape error, not a wrap-around.
    let error = state.run(&[0.0; 4], usize::MAX / 2, &mut [0.0; 2]).unwrap_err();
    assert_eq!(error.status, Status::Shape);

    let mut copy = model.clone();
    shape(
        copy.set_tensor(0, "weight_ih", &[0.0; 3]).unwrap_err(),
        "Model::set_tensor",
        "values",
    );
    shape(
        model.get_tensor_into(0, "weight_ih", &mut [0.0; 3]).unwrap_err(),
        "Model::get_tensor",
        "out",
    );
    assert!(
        same_bits(&state.get().unwrap(), &[0.0; 16]),
        "no refused call moved the state"
    );
}

#[test]
fn trainer_sizes_and_configs_are_checked() {
    let mut model = tiny_lstm();
    let error = model.trainer("{\"loss\": ").unwrap_err();
    assert_eq!(error.status, Status::Parse);
    let error = model.trainer(r#"{"loss": "mse", "learning_rat": 0.1}"#).unwrap_err();
    assert_eq!(error.status, Status::Model);
    assert!(error.message.contains("learning_rat"), "{}", error.message);

    let mut trainer = model.trainer(r#"{"loss": "mse"}"#).unwrap();
    let x = [0.5f32; 2 * 3 * 2];
    let error = trainer.step(&x, 2, 3, &[0.0; 5]).unwrap_err();
    assert_eq!(error.status, Status::Shape);
    assert_eq!(
        error.message,
        "Trainer::step: target has 5 values, expected 6 (batch 2 x steps 3 x output_size 1 = 6)"
    );
    let error = trainer.step(&x[1..], 2, 3, &[0.0; 6]).unwrap_err();
    assert!(
        error.message.starts_with("Trainer::step: x has 11 values"),
        "{}",
        error.message
    );
    let error = trainer.step(&x, 0, 3, &[]).unwrap_err();
    assert_eq!(error.status, Status::InvalidArgument);
    let error = trainer.step_lengths(&x, 2, 3, &[3], &[0.0; 6]).unwrap_err();
    assert!(
        error.message.starts_with("Trainer::step_lengths: lengths has 1 values"),
        "{}",
        error.message
    );
    let error = trainer.step_lengths(&x, 2, 3, &[3, 0], &[0.0; 6]).unwrap_err();
    assert_eq!(
        error.status,
        Status::InvalidArgument,
        "a length of 0 (library): {}",
        error.message
    );
    let error = trainer.step_labels(&x, 2, 3, &[0; 6]).unwrap_err();
    assert_eq!(error.status, Status::InvalidArgument);
    assert!(error.message.contains("cross_entropy"), "{}", error.message);
    assert_eq!(
        trainer.last_gradient_norm(),
        0.0,
        "no refused step got as far as a gradient"
    );
    let error = trainer.hidden_gradient_norms(0, 3).unwrap_err();
    assert_eq!(error.status, Status::InvalidArgument, "not recorded without the option");
    let error = trainer.hidden_gradient_norms(0, usize::MAX).unwrap_err();
    assert_eq!(
        error.status,
        Status::OutOfMemory,
        "an absurd size is an error, not an abort"
    );
}

#[test]
fn non_finite_inputs_are_numeric_errors_and_change_nothing() {
    let model = tiny_lstm();
    let mut state = model.state(1).unwrap();
    let mut y = [0.0f32; 1];
    state.step(&[0.5, 0.25], &mut y).unwrap();
    let before = state.get().unwrap();
    let error = state.step(&[f32::NAN, 0.0], &mut y).unwrap_err();
    assert_eq!(error.status, Status::Numeric);
    assert!(error.message.contains("nan"), "{}", error.message);
    assert!(same_bits(&state.get().unwrap(), &before));
    assert_eq!(state.set(&[f32::INFINITY; 8]).unwrap_err().status, Status::Numeric);
    assert_eq!(state.reset_stream(1).unwrap_err().status, Status::InvalidArgument);
    assert_eq!(model.state(0).unwrap_err().status, Status::InvalidArgument);
    assert_eq!(model.layer(2).unwrap_err().status, Status::InvalidArgument);
    assert_eq!(
        model.get_tensor(0, "weight").unwrap_err().status,
        Status::InvalidArgument,
        "no such tensor"
    );
}

#[test]
fn each_thread_gets_its_own_message() {
    // recur_last_error is thread-local: the binding copies it at once, so
    // two threads failing together each see their own failure.
    std::thread::scope(|scope| {
        let parse = scope.spawn(|| (0..200).map(|_| Model::from_json("[").unwrap_err()).collect::<Vec<_>>());
        let io = scope.spawn(|| {
            (0..200)
                .map(|_| Model::load("/nonexistent/a.json").unwrap_err())
                .collect::<Vec<_>>()
        });
        assert!(parse
            .join()
            .unwrap()
            .iter()
            .all(|e| e.status == Status::Parse && !e.message.contains("/nonexistent")));
        assert!(io
            .join()
            .unwrap()
            .iter()
            .all(|e| e.status == Status::Io && e.message.contains("/nonexistent/a.json")));
    });
}

#[test]
fn statuses_round_trip_and_unknown_codes_are_kept() {
    for code in 0..=8 {
        assert_eq!(Status::from_raw(code).code(), code);
    }
    assert_eq!(Status::from_raw(42), Status::Unknown(42));
    assert_eq!(Status::Unknown(42).description(), "unknown status");
    assert_eq!(Status::Shape.to_string(), Status::Shape.description());
}
