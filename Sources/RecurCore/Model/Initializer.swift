// Deterministic initialisation of layers that come without weights, from the
// document's `init` object. Only integer arithmetic, IEEE division and sqrt
// are used, so the same seed gives the same floats on every machine.

enum Initializer {
    static func initialize(_ layer: Layer, index: Int, spec: InitSpec, parameters: FloatBuffer) {
        // One generator per layer, so adding a layer does not change the
        // others. Its seed is output index+1 of a SplitMix64 seeded with the
        // model's seed: well-mixed, so no two layers draw overlapping runs.
        // A bidirectional layer's reverse cell draws from its own generator,
        // seeded from the layer's seed (the forward cell is initialised as a
        // forward layer of the same index would be).
        var seeder = SplitMix64(seed: spec.seed)
        var layerSeed: UInt64 = 0
        for _ in 0...index { layerSeed = seeder.next() }
        for cell in layer.cells {
            var reverseSeeder = SplitMix64(seed: layerSeed ^ reverseSeedMix)
            var random = SplitMix64(seed: cell == 0 ? layerSeed : reverseSeeder.next())
            initialize(cell: layer.cell(cell), spec: spec, random: &random, parameters: parameters)
        }
    }

    /// Mixed into a layer's seed for its reverse cell ("Reverse!" in ASCII).
    private static let reverseSeedMix: UInt64 = 0x5265_7665_7273_6521

    private static func initialize(cell layer: Layer, spec: InitSpec, random: inout SplitMix64, parameters: FloatBuffer) {
        let p = parameters.base
        let h = layer.hiddenSize

        if layer.kind == .dense {
            // Glorot uniform weights, zero bias.
            let limit = (6.0 / Double(layer.inputSize + h)).squareRoot()
            fill(layer.tensors[0], p, &random, limit)
            return
        }

        let limit = 1.0 / Double(h).squareRoot()   // PyTorch's U(-1/sqrt(H), 1/sqrt(H))
        let weightIH = layer.tensors[0], weightHH = layer.tensors[1]
        fill(weightIH, p, &random, limit)
        switch spec.recurrent {
        case .uniform:
            fill(weightHH, p, &random, limit)
            for slot in layer.tensors.dropFirst(2) { fill(slot, p, &random, limit) }
        case .identity where layer.kind == .rnn:
            for row in 0..<h { p[weightHH.index(row: row, column: row)] = 1 }   // IRNN: W_hh = I, b = 0
        case .orthogonal, .identity:
            for gate in 0..<layer.kind.gateCount {
                let block = orthogonal(size: h, &random)
                for row in 0..<h {
                    for column in 0..<h {
                        p[weightHH.index(row: gate * h + row, column: column)] = Float(block[row * h + column])
                    }
                }
            }
            // Biases zero, but an LSTM's forget gate starts open (bias 1).
            if layer.kind == .lstm, let bias = layer.tensors.first(where: { $0.name == "bias_ih" }) {
                for row in h..<2 * h { p[bias.index(row: row, column: 0)] = 1 }
            }
        }
    }

    /// Fills a tensor with U(-limit, limit).
    private static func fill(_ slot: TensorSlot, _ p: UnsafeMutablePointer<Float>, _ random: inout SplitMix64, _ limit: Double) {
        for row in 0..<slot.rows {
            for column in 0..<slot.columns {
                p[slot.index(row: row, column: column)] = Float(random.uniform(-limit, limit))
            }
        }
    }

    /// A random orthogonal n x n matrix (row-major, Double): uniform random
    /// rows made orthonormal by modified Gram-Schmidt, done twice for accuracy.
    static func orthogonal(size n: Int, _ random: inout SplitMix64) -> [Double] {
        var m = [Double](repeating: 0, count: n * n)
        m.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            var row = 0
            while row < n {
                let r = base + row * n
                for column in 0..<n { r[column] = random.uniform(-1, 1) }
                var norm = 0.0
                for _ in 0..<2 {
                    for previous in 0..<row {
                        let q = base + previous * n
                        var dot = 0.0
                        for k in 0..<n { dot += r[k] * q[k] }
                        for k in 0..<n { r[k] -= dot * q[k] }
                    }
                    norm = 0
                    for k in 0..<n { norm += r[k] * r[k] }
                    norm = norm.squareRoot()
                    if norm < 1e-6 { break }   // (almost) dependent: draw the row again
                    for k in 0..<n { r[k] /= norm }
                }
                if norm >= 1e-6 { row += 1 }
            }
        }
        return m
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and the same sequence on
/// every platform.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [low, high), from the top 53 bits.
    mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * (Double(next() >> 11) * 0x1p-53)
    }
}
