//! The safe API end to end on examples/models/tiny_lstm.json (2 inputs, an
//! LSTM of 4, a dense layer with 1 output): sizes, layers, tensors, JSON
//! and files, clones, states, threads, training between evaluations.

mod common;

use common::{repository, same_bits};
use recur::{Model, State, TensorEncoding, Trainer, WeightStorage};

/// The inputs of examples/models/make_tiny_lstm.py and the outputs it prints
/// for them (also in Tests/cpp/check_stream.sh).
const INPUTS: [[f32; 2]; 6] = [
    [1.0, 0.0],
    [0.5, -0.5],
    [0.0, 1.0],
    [-1.0, 0.25],
    [0.25, 0.75],
    [0.0, 0.0],
];
const OUTPUTS: [f64; 6] = [
    0.046518967,
    0.137708474,
    -0.070784575,
    -0.156580549,
    -0.172689709,
    -0.141226968,
];

fn tiny_lstm() -> Model {
    Model::load(repository().join("examples/models/tiny_lstm.json")).unwrap()
}

/// The six outputs of tiny_lstm for INPUTS, stepped from zero.
fn outputs(model: &Model) -> Vec<f32> {
    let mut state = model.state(1).unwrap();
    let mut y = [0.0f32; 1];
    INPUTS
        .iter()
        .map(|x| {
            state.step(x, &mut y).unwrap();
            y[0]
        })
        .collect()
}

fn temporary(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("recur-rust-{}-{name}", std::process::id()))
}

#[test]
fn version_and_kernels() {
    let number = recur::version_number();
    assert_eq!(
        recur::version(),
        format!("{}.{}.{}", number / 10000, number / 100 % 100, number % 100)
    );
    assert!(recur::version_compatible());
    assert!(["avx512", "avx2", "sse2", "reference"].contains(&recur::cpu_kernels()));
}

#[test]
fn the_tiny_lstm_gives_the_numpy_reference_outputs() {
    let model = tiny_lstm();
    for (got, want) in outputs(&model).iter().zip(OUTPUTS) {
        assert!((*got as f64 - want).abs() <= 1e-5, "{got} vs {want}");
    }
}

#[test]
fn sizes_layers_and_tensors() {
    let model = tiny_lstm();
    assert_eq!(
        (model.input_size(), model.output_size(), model.layer_count()),
        (2, 1, 2)
    );
    assert_eq!(model.state_size(), 8, "h and c of 4");
    let lstm = model.layer(0).unwrap();
    assert_eq!(
        (lstm.kind, lstm.input_size, lstm.hidden_size, lstm.state_size),
        ("lstm", 2, 4, 8)
    );
    assert!(!lstm.bidirectional);
    assert_eq!(model.layer(1).unwrap().kind, "dense");
    assert_eq!(
        model.tensor_names(0).unwrap(),
        ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    );
    assert_eq!(model.tensor_names(1).unwrap(), ["weight", "bias"]);
    assert_eq!(model.tensor_shape(0, "weight_ih").unwrap(), (16, 2));
    assert_eq!(model.tensor_shape(0, "bias_hh").unwrap(), (16, 1));
    let mut parameters = 0;
    for layer in 0..model.layer_count() {
        for name in model.tensor_names(layer).unwrap() {
            parameters += model.get_tensor(layer, name).unwrap().len();
        }
    }
    assert_eq!(model.parameter_count(), parameters);
}

#[test]
fn set_tensor_changes_the_model_and_get_tensor_reads_it_back() {
    let mut model = tiny_lstm();
    let before = outputs(&model);
    let mut bias = model.get_tensor(1, "bias").unwrap();
    bias[0] += 1.0;
    model.set_tensor(1, "bias", &bias).unwrap();
    assert!(same_bits(&model.get_tensor(1, "bias").unwrap(), &bias));
    for (after, before) in outputs(&model).iter().zip(&before) {
        assert!(
            (after - before - 1.0).abs() < 1e-6,
            "a linear head's bias adds to every output"
        );
    }
}

#[test]
fn json_files_and_clones_keep_the_weights_bit_for_bit() {
    let model = tiny_lstm();
    let reference = outputs(&model);
    for encoding in [TensorEncoding::Flat, TensorEncoding::Base64, TensorEncoding::Automatic] {
        let text = model.to_json_encoded(encoding).unwrap();
        assert!(
            same_bits(&outputs(&Model::from_json(&text).unwrap()), &reference),
            "{encoding:?}"
        );
    }
    assert!(model
        .to_json_encoded(TensorEncoding::Base64)
        .unwrap()
        .contains("base64"));

    let path = temporary("saved.json");
    model.save(&path).unwrap();
    assert!(same_bits(&outputs(&Model::load(&path).unwrap()), &reference));
    model.save_encoded(&path, TensorEncoding::Flat).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().contains("\"data\""));
    std::fs::remove_file(&path).unwrap();

    // A clone has its own weights.
    let mut copy = model.clone();
    copy.set_tensor(1, "bias", &[5.0]).unwrap();
    assert!(same_bits(&outputs(&model), &reference));
    assert!(!same_bits(&outputs(&copy), &reference));
    assert!(same_bits(&outputs(&model.try_clone().unwrap()), &reference));
}

#[test]
fn state_get_set_reset_and_reset_stream() {
    let model = tiny_lstm();
    let mut state = model.state(2).unwrap();
    assert_eq!(
        (state.batch(), state.size(), state.input_size(), state.output_size()),
        (2, 8, 2, 1)
    );
    let mut y = [0.0f32; 2];
    state.step(&[1.0, 0.0, 0.5, -0.5], &mut y).unwrap();
    let saved = state.get().unwrap();
    assert!(saved.iter().any(|&v| v != 0.0));

    // reset_stream clears stream 1 only.
    state.reset_stream(1).unwrap();
    let after = state.get().unwrap();
    assert!(same_bits(&after[..8], &saved[..8]) && after[8..].iter().all(|&v| v == 0.0));

    // Restoring continues bit for bit as if never interrupted.
    let mut continued = model.state(2).unwrap();
    continued.set(&saved).unwrap();
    let (mut a, mut b) = ([0.0f32; 2], [0.0f32; 2]);
    state.set(&saved).unwrap();
    state.step(&[0.0, 1.0, 0.0, 1.0], &mut a).unwrap();
    continued.step(&[0.0, 1.0, 0.0, 1.0], &mut b).unwrap();
    assert!(same_bits(&a, &b));

    state.reset().unwrap();
    assert!(state.get().unwrap().iter().all(|&v| v == 0.0));
}

#[test]
fn a_run_equals_steps_and_worker_threads_give_the_same_bits() {
    let model = tiny_lstm();
    let (batch, steps) = (16, 30);
    let x: Vec<f32> = (0..batch * steps * 2)
        .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
        .collect();
    let mut one = model.state(batch).unwrap();
    let mut two = model.state(batch).unwrap();
    two.set_threads(2).unwrap();
    let (mut y1, mut y2) = (vec![0.0; batch * steps], vec![0.0; batch * steps]);
    one.run(&x, steps, &mut y1).unwrap();
    two.run(&x, steps, &mut y2).unwrap();
    assert!(same_bits(&y1, &y2));
    assert!(two.set_threads(0).is_err());
}

#[test]
fn threads_share_a_model_each_with_its_own_state() {
    let model = tiny_lstm();
    let reference = outputs(&model);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4).map(|_| scope.spawn(|| outputs(&model))).collect();
        for worker in workers {
            assert!(same_bits(&worker.join().unwrap(), &reference));
        }
    });
    // A state may move to another thread between calls.
    let mut state = model.state(1).unwrap();
    let mut y = [0.0f32; 1];
    state.step(&INPUTS[0], &mut y).unwrap();
    let state = std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let mut y = [0.0f32; 1];
                state.step(&INPUTS[1], &mut y).unwrap();
                assert_eq!(y[0].to_bits(), reference[1].to_bits());
                state
            })
            .join()
            .unwrap()
    });
    assert_eq!(state.batch(), 1);
}

#[test]
fn send_and_sync_where_the_c_api_allows() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Model>();
    sync::<Model>();
    send::<State<'static>>();
    send::<Trainer<'static>>();
    send::<recur::Error>();
    sync::<recur::Error>();
}

#[test]
fn training_between_evaluations_through_the_trainers_model() {
    let mut model = tiny_lstm();
    let reference = outputs(&model);
    let (batch, steps) = (4, 8);
    let x: Vec<f32> = (0..batch * steps * 2).map(|i| (i as f32 * 0.37).sin()).collect();
    let target: Vec<f32> = x.chunks(2).map(|pair| 0.5 * pair[0]).collect();
    let mut trainer = model
        .trainer(r#"{"optimizer": {"type": "adam", "learning_rate": 0.05}}"#)
        .unwrap();
    let first = trainer.step(&x, batch, steps, &target).unwrap();
    let mut loss = first;
    for _ in 0..30 {
        // Evaluate between steps: the state borrows the trainer, so it must
        // be gone before the next step (the compiler enforces it).
        let seen = outputs(trainer.model());
        assert_eq!(seen.len(), 6);
        loss = trainer.step(&x, batch, steps, &target).unwrap();
    }
    assert!(loss < first * 0.5, "training lowers the loss: {first} -> {loss}");
    assert!(trainer.last_gradient_norm() > 0.0);
    assert_eq!(trainer.gradient(0, "weight_ih").unwrap().len(), 32);
    drop(trainer);
    assert!(
        !same_bits(&outputs(&model), &reference),
        "the model was trained in place"
    );
}

#[test]
fn labels_last_targets_stateful_and_gradient_norms_per_step() {
    let json = r#"{"format": "recur", "version": 1, "input_size": 2, "init": {"seed": 7}, "layers": [
        {"type": "gru", "hidden_size": 3}, {"type": "dense", "units": 3, "activation": "softmax"}]}"#;
    let mut model = Model::from_json(json).unwrap();
    let config = r#"{"loss": "cross_entropy", "targets": "last", "stateful": true,
                     "record_hidden_gradient_norms": true}"#;
    let mut trainer = model.trainer(config).unwrap();
    assert!(trainer.targets_last());
    assert_eq!(trainer.target_count(2, 5).unwrap(), (6, 2));
    let x = [0.25f32; 2 * 5 * 2];
    let loss = trainer.step_labels(&x, 2, 5, &[0, 2]).unwrap();
    assert!(loss.is_finite() && loss > 0.0);
    assert_eq!(trainer.hidden_gradient_norms(0, 5).unwrap().len(), 5);
    // Stateful: another batch size only after reset_state.
    assert_eq!(
        trainer.step_labels(&x[..10], 1, 5, &[1]).unwrap_err().status,
        recur::Status::Shape
    );
    trainer.reset_state().unwrap();
    trainer.step_labels(&x[..10], 1, 5, &[1]).unwrap();
    trainer.reset_state().unwrap();
    trainer.step_labels_lengths(&x, 2, 5, &[5, 2], &[1, 0]).unwrap();
    trainer.set_threads(2).unwrap();
    let error = trainer.step(&x, 2, 5, &[0.0; 6]);
    assert!(error.is_ok(), "probability targets for cross_entropy: {error:?}");
}

#[test]
fn fp16_weight_storage() {
    let mut model = tiny_lstm();
    assert_eq!(model.weight_storage(), WeightStorage::Fp32);
    model.set_weight_storage(WeightStorage::Fp16).unwrap();
    assert_eq!(model.weight_storage(), WeightStorage::Fp16);
    for (got, want) in outputs(&model).iter().zip(OUTPUTS) {
        assert!(
            (*got as f64 - want).abs() <= 5e-3,
            "fp16 weights move outputs by about 1e-3: {got} vs {want}"
        );
    }
    model.set_weight_storage(WeightStorage::Fp32).unwrap();
    assert!(same_bits(&outputs(&model), &outputs(&tiny_lstm())));
}
