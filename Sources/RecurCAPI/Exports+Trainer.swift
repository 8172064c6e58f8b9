// MARK: - Fine-tuning
import RecurCore

/// Creates a trainer that fine-tunes `model` in place by backpropagation
/// through time. `config_json` is a NUL-terminated JSON object (NULL or ""
/// for the defaults):
///   {"loss": "mse" | "cross_entropy" | "binary_cross_entropy",
///    "targets": "sequence" | "last",
///    "optimizer": {"type": "sgd" | "adam" | "adamw", "learning_rate": 0.001,
///                  "momentum", "beta1", "beta2", "epsilon", "weight_decay"},
///    "clip_gradient_norm": 1.0, "freeze": [layer, ...], "stateful": false,
///    "record_hidden_gradient_norms": false}
/// The trainer keeps the model alive. While a trainer step runs, no state
/// may run on the model (use recur_model_clone for a copy to serve from).
/// On success *out_trainer is a new trainer the caller frees with
/// recur_trainer_free.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (model or out_trainer NULL),
/// RECUR_ERROR_PARSE (config not JSON), RECUR_ERROR_MODEL (unknown key or
/// value, freeze index out of range, loss that does not fit the last layer;
/// the message names the key), RECUR_ERROR_OUT_OF_MEMORY.
@_cdecl("recur_trainer_create")
public func recur_trainer_create(_ model: ModelPointer?, _ config_json: UnsafePointer<CChar>?, _ out_trainer: UnsafeMutablePointer<TrainerPointer?>?) -> Status {
    withStatus { () throws(RecurError) in
        let model = try Handle.unbox(model, as: Model.self, "model")
        let out = try required(out_trainer, "out_trainer")
        let text = config_json.map { String(cString: $0) } ?? ""
        out.pointee = Handle.retain(try Trainer(model: model, configText: text))
    }
}

/// A copy of `trainer` in the same state (configuration, optimizer moments
/// and step count, carried state of stateful training, threads) that
/// trains `model`: the trainer's own model when `model` is NULL, or a clone
/// of it (recur_model_clone) to train a copy independently. Later steps of
/// the two give the same bits. On success *out_trainer is a new trainer the
/// caller frees with recur_trainer_free.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (trainer or out_trainer
/// NULL, or a model of other layers), RECUR_ERROR_OUT_OF_MEMORY.
@_cdecl("recur_trainer_clone")
public func recur_trainer_clone(_ trainer: ConstTrainerPointer?, _ model: ModelPointer?, _ out_trainer: UnsafeMutablePointer<TrainerPointer?>?) -> Status {
    withStatus { () throws(RecurError) in
        let trainer = try Handle.unbox(trainer, as: Trainer.self, "trainer")
        let out = try required(out_trainer, "out_trainer")
        let target = try model.map { (pointer) throws(RecurError) in try Handle.unbox(pointer, as: Model.self, "model") } ?? trainer.model
        out.pointee = Handle.retain(try trainer.clone(onto: target))
    }
}

/// Frees a trainer (and its reference to the model). NULL is a no-op.
@_cdecl("recur_trainer_free")
public func recur_trainer_free(_ trainer: TrainerPointer?) {
    Handle.release(trainer, as: Trainer.self)
}

/// One training step: forward over `steps` steps of `batch` sequences, loss,
/// backward through time, optional clipping, one optimizer update.
/// `x` is [batch][steps][input_size]; `target` is [batch][steps][output_size]
/// ("targets": "sequence") or [batch][output_size] ("last"). Writes the loss
/// before the update to *out_loss (out_loss may be NULL). Allocates only
/// when batch or steps differ from the previous step's (and on the first).
/// On error nothing changes: weights, optimizer state and carried state are
/// as they were.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL, batch or steps 0),
/// RECUR_ERROR_SHAPE (batch * steps too large, or a stateful trainer that
/// carries state given another batch size), RECUR_ERROR_NUMERIC (non-finite
/// input, target, loss or gradient, or an update that would make a weight
/// non-finite; the message says which), RECUR_ERROR_OUT_OF_MEMORY.
@_cdecl("recur_trainer_step")
public func recur_trainer_step(_ trainer: TrainerPointer?, _ x: UnsafePointer<Float>?, _ batch: UInt, _ steps: UInt, _ target: UnsafePointer<Float>?, _ out_loss: UnsafeMutablePointer<Float>?) -> Status {
    withStatus { () throws(RecurError) in
        let trainer = try Handle.unbox(trainer, as: Trainer.self, "trainer")
        let loss = try trainer.step(x: try required(x, "x"), batch: try count(batch, "batch"), steps: try count(steps, "steps"),
                                    targets: try required(target, "target"))
        out_loss?.pointee = loss
    }
}

/// recur_trainer_step with class labels for "loss": "cross_entropy": one
/// index in [0, output_size) per target position, [batch][steps] or [batch].
/// Returns as recur_trainer_step, and RECUR_ERROR_INVALID_ARGUMENT for a
/// label out of range or a trainer whose loss is not cross_entropy.
@_cdecl("recur_trainer_step_labels")
public func recur_trainer_step_labels(_ trainer: TrainerPointer?, _ x: UnsafePointer<Float>?, _ batch: UInt, _ steps: UInt, _ labels: UnsafePointer<Int32>?, _ out_loss: UnsafeMutablePointer<Float>?) -> Status {
    withStatus { () throws(RecurError) in
        let trainer = try Handle.unbox(trainer, as: Trainer.self, "trainer")
        let loss = try trainer.step(x: try required(x, "x"), batch: try count(batch, "batch"), steps: try count(steps, "steps"),
                                    labels: try required(labels, "labels"))
        out_loss?.pointee = loss
    }
}

/// recur_trainer_step over sequences of different lengths: sequence b has
/// its first lengths[b] steps (1 <= lengths[b] <= steps). "sequence"
/// targets: the loss is the mean over the valid positions only (for mse and
/// binary_cross_entropy, over their elements); inputs and targets at padded
/// positions are never read. "last" targets: each sequence's target is
/// compared with its output at its own last step. Stateful training carries
/// each sequence's state after its own last step. `target` keeps the layout
/// of recur_trainer_step.
/// Returns as recur_trainer_step, and RECUR_ERROR_INVALID_ARGUMENT for
/// lengths NULL or a length of 0 or above steps (the message names it).
@_cdecl("recur_trainer_step_lengths")
public func recur_trainer_step_lengths(_ trainer: TrainerPointer?, _ x: UnsafePointer<Float>?, _ batch: UInt, _ steps: UInt, _ lengths: UnsafePointer<UInt>?, _ target: UnsafePointer<Float>?, _ out_loss: UnsafeMutablePointer<Float>?) -> Status {
    withStatus { () throws(RecurError) in
        let trainer = try Handle.unbox(trainer, as: Trainer.self, "trainer")
        let loss = try trainer.step(x: try required(x, "x"), batch: try count(batch, "batch"), steps: try count(steps, "steps"),
                                    lengths: try required(lengths, "lengths"), targets: try required(target, "target"))
        out_loss?.pointee = loss
    }
}

/// recur_trainer_step_labels over sequences of different lengths, as
/// recur_trainer_step_lengths; labels at padded positions are never read.
/// Returns as recur_trainer_step_lengths.
@_cdecl("recur_trainer_step_labels_lengths")
public func recur_trainer_step_labels_lengths(_ trainer: TrainerPointer?, _ x: UnsafePointer<Float>?, _ batch: UInt, _ steps: UInt, _ lengths: UnsafePointer<UInt>?, _ labels: UnsafePointer<Int32>?, _ out_loss: UnsafeMutablePointer<Float>?) -> Status {
    withStatus { () throws(RecurError) in
        let trainer = try Handle.unbox(trainer, as: Trainer.self, "trainer")
        let loss = try trainer.step(x: try required(x, "x"), batch: try count(batch, "batch"), steps: try count(steps, "steps"),
                                    lengths: try required(lengths, "lengths"), labels: try required(labels, "labels"))
        out_loss?.pointee = loss
    }
}

/// How many values a step of `batch` sequences of `steps` steps takes:
/// *out_targets floats for recur_trainer_step ([batch][steps][output_size],
/// or [batch][output_size] with "targets": "last"), and *out_labels int32
/// labels for recur_trainer_step_labels ([batch][steps] or [batch]; 0 when
/// the loss is not cross_entropy, which takes no labels). Either out-pointer
/// may be NULL.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (trainer NULL, batch or
/// steps 0), RECUR_ERROR_SHAPE (batch * steps too large).
@_cdecl("recur_trainer_target_count")
public func recur_trainer_target_count(_ trainer: ConstTrainerPointer?, _ batch: UInt, _ steps: UInt, _ out_targets: UnsafeMutablePointer<UInt>?, _ out_labels: UnsafeMutablePointer<UInt>?) -> Status {
    withStatus { () throws(RecurError) in
        let trainer = try Handle.unbox(trainer, as: Trainer.self, "trainer")
        let counts = try trainer.valueCounts(batch: try count(batch, "batch"), steps: try count(steps, "steps"))
        out_targets?.pointee = UInt(counts.targets)
        out_labels?.pointee = UInt(counts.labels)
    }
}

/// Global L2 norm of the last computed gradient over all trainable
/// parameters, before clipping (also of a step refused as
/// RECUR_ERROR_NUMERIC after its backward pass; a step refused earlier, for
/// a non-finite input or target, leaves it unchanged). 0 before the first
/// step or when trainer is NULL.
@_cdecl("recur_trainer_last_gradient_norm")
public func recur_trainer_last_gradient_norm(_ trainer: ConstTrainerPointer?) -> Float {
    Handle.peek(trainer, as: Trainer.self)?.lastGradientNorm ?? 0
}

/// Copies the last step's gradient of tensor `name` of layer `layer`
/// (before clipping; zeros for a frozen layer) into `out`, row-major;
/// `count` must be the tensor's size.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL, layer out of range,
/// no such tensor), RECUR_ERROR_SHAPE (count differs).
@_cdecl("recur_trainer_get_gradient")
public func recur_trainer_get_gradient(_ trainer: ConstTrainerPointer?, _ layer: UInt, _ name: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Float>?, _ count: UInt) -> Status {
    withStatus { () throws(RecurError) in
        let trainer = try Handle.unbox(trainer, as: Trainer.self, "trainer")
        let name = String(cString: try required(name, "name"))
        let n = try RecurCAPI.count(count, "count")
        try trainer.getGradient(layer: try RecurCAPI.index(layer, "layer"), name: name,
                                into: UnsafeMutableBufferPointer(start: try required(out, "out"), count: n))
    }
}

/// For a stateful trainer: forgets the carried state, so the next step
/// starts every stream from zeros (and may use another batch size).
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (trainer NULL).
@_cdecl("recur_trainer_reset_state")
public func recur_trainer_reset_state(_ trainer: TrainerPointer?) -> Status {
    withStatus { () throws(RecurError) in
        try Handle.unbox(trainer, as: Trainer.self, "trainer").resetState()
    }
}

/// Splits later trainer steps over `threads` threads (opt-in; 1, the
/// default, starts no thread): the sequences for the passes through time,
/// the weight columns for the gradient sums. Losses, gradients and weights
/// are bit-identical to one thread's, whatever the count. Threads end when
/// the trainer is freed or set back to 1.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (trainer NULL, threads 0 or
/// above 256), RECUR_ERROR_OUT_OF_MEMORY.
@_cdecl("recur_trainer_set_threads")
public func recur_trainer_set_threads(_ trainer: TrainerPointer?, _ threads: UInt) -> Status {
    withStatus { () throws(RecurError) in
        try Handle.unbox(trainer, as: Trainer.self, "trainer").setThreads(try RecurCAPI.index(threads, "threads"))
    }
}

/// For each of the `steps` time steps of the last trainer step: the L2 norm
/// over the batch of dL/dh_t of recurrent layer `layer` (how much gradient
/// reaches step t: vanishing and exploding gradients, measured). `steps`
/// must equal that step's steps. Zeros before the first step or for a layer
/// below the lowest trainable one. A diagnostic that costs nothing unless
/// asked for: the trainer's configuration must say
/// "record_hidden_gradient_norms": true.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL, not a recurrent
/// layer, a trainer that does not record them), RECUR_ERROR_SHAPE (steps
/// differs).
@_cdecl("recur_trainer_hidden_gradient_norms")
public func recur_trainer_hidden_gradient_norms(_ trainer: ConstTrainerPointer?, _ layer: UInt, _ out: UnsafeMutablePointer<Float>?, _ steps: UInt) -> Status {
    withStatus { () throws(RecurError) in
        let trainer = try Handle.unbox(trainer, as: Trainer.self, "trainer")
        let n = try count(steps, "steps")
        try trainer.hiddenGradientNorms(layer: try RecurCAPI.index(layer, "layer"),
                                        into: UnsafeMutableBufferPointer(start: try required(out, "out"), count: n))
    }
}
