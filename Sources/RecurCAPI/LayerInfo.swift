// recur_layer_info: a C struct filled by recur_model_layer_info. The
// generator (scripts/generate-header.py) writes it into recur.h from the
// declaration below, field for field, and maps each Swift type to the C type
// of the same size and alignment, so both sides agree on the layout
// (Tests/c/test_api.c checks sizeof and the fields through the C API).
import RecurCore

/// What recur_model_layer_info says about one layer. Fields are only ever
/// appended: a caller sets struct_size to sizeof(recur_layer_info) as its
/// header declares it, and the library fills what fits.
// c-struct: recur_layer_info
public struct LayerInfoRecord {
    /// the caller sets sizeof(recur_layer_info)
    public var struct_size: UInt
    /// "rnn", "lstm", "gru" or "dense" (static storage: never freed)
    public var type: UnsafePointer<CChar>?
    /// "tanh", "relu", "linear", "sigmoid" or "softmax" (static storage)
    public var activation: UnsafePointer<CChar>?
    /// values per step coming in
    public var input_size: UInt
    /// values per step going out (2 * hidden_size when bidirectional)
    public var output_size: UInt
    /// hidden_size of a recurrent layer, units of a dense layer
    public var hidden_size: UInt
    /// floats per stream this layer keeps (0 for dense layers)
    public var state_size: UInt
    /// 1 for "direction": "bidirectional"
    public var bidirectional: CInt
    /// 1 when the layer has a bias tensor
    public var has_bias: CInt
    /// how many tensors it has (names: recur_model_tensor_name)
    public var tensor_count: UInt
}

/// `recur_layer_info *` in C (@_cdecl cannot name a Swift struct).
public typealias LayerInfoPointer = UnsafeMutableRawPointer

extension LayerInfoRecord {
    /// Copies the fields that fit in the caller's struct_size to `out`,
    /// keeping its struct_size; refuses a struct smaller than this version's.
    func write(to out: UnsafeMutableRawPointer) throws(RecurError) {
        let callerSize = out.loadUnaligned(as: UInt.self)
        let size = MemoryLayout<LayerInfoRecord>.size
        guard callerSize >= UInt(size) else {
            throw RecurError(.invalidArgument, "out_info->struct_size is \(callerSize): set it to sizeof(recur_layer_info) (at least \(size))")
        }
        var record = self
        record.struct_size = callerSize
        withUnsafeBytes(of: &record) { out.copyMemory(from: $0.baseAddress!, byteCount: size) }
    }

    /// The record for a layer, with its names in static storage.
    init(_ layer: LayerDescription) {
        self.init(struct_size: UInt(MemoryLayout<LayerInfoRecord>.size),
                  type: Self.staticName(layer.kind.rawValue), activation: Self.staticName(layer.activation.rawValue),
                  input_size: UInt(layer.inputSize), output_size: UInt(layer.outputSize),
                  hidden_size: UInt(layer.hiddenSize), state_size: UInt(layer.stateSize),
                  bidirectional: layer.bidirectional ? 1 : 0, has_bias: layer.hasBias ? 1 : 0,
                  tensor_count: UInt(layer.tensorNames.count))
    }

    /// A C string that lives as long as the program (string literals do):
    /// every layer type, activation and tensor name of the format.
    static func staticName(_ name: String) -> UnsafePointer<CChar> {
        let literal: StaticString
        switch name {
        case "rnn": literal = "rnn"
        case "lstm": literal = "lstm"
        case "gru": literal = "gru"
        case "dense": literal = "dense"
        case "tanh": literal = "tanh"
        case "relu": literal = "relu"
        case "linear": literal = "linear"
        case "sigmoid": literal = "sigmoid"
        case "softmax": literal = "softmax"
        case "weight_ih": literal = "weight_ih"
        case "weight_hh": literal = "weight_hh"
        case "bias_ih": literal = "bias_ih"
        case "bias_hh": literal = "bias_hh"
        case "weight": literal = "weight"
        case "bias": literal = "bias"
        case "weight_ih_reverse": literal = "weight_ih_reverse"
        case "weight_hh_reverse": literal = "weight_hh_reverse"
        case "bias_ih_reverse": literal = "bias_ih_reverse"
        case "bias_hh_reverse": literal = "bias_hh_reverse"
        case "forward": literal = "forward"
        case "bidirectional": literal = "bidirectional"
        default: literal = "unknown"
        }
        return UnsafeRawPointer(literal.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
