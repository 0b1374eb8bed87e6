import Foundation
import Testing
@testable import SafeTensors
import TestSupport

let sampleTensors: [NamedTensor] = [
    NamedTensor(name: "transformer.wte.weight", shape: [3, 4], values: (0..<12).map { Float($0) * 0.5 - 2 }),
    NamedTensor(name: "transformer.h.0.ln_1.weight", shape: [4], values: [1, .pi, -0.0, .greatestFiniteMagnitude]),
    NamedTensor(name: "scalar", shape: [], values: [7]),
    NamedTensor(name: "empty", shape: [0, 3], values: []),
    NamedTensor(name: "special", shape: [3], values: [.infinity, -.infinity, .leastNonzeroMagnitude]),
]

let sampleMetadata = [
    "format": "nanoscope/1",
    "tokenizer": #"{"type":"char","vocab":["\n"," ","\"","\\","é","日","🙂"]}"#,
    "control": "tab\there\u{01}",
]

@Suite struct SafeTensorsRoundTrip {
    @Test func writesAndReadsBackEveryValueAndTheMetadata() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("weights.safetensors")
        try SafeTensors.write(sampleTensors, metadata: sampleMetadata, to: path)

        let file = try SafeTensors.read(path)
        #expect(file.metadata == sampleMetadata)
        #expect(file.tensors.map(\.name) == sampleTensors.map(\.name).sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) })
        for tensor in sampleTensors {
            let loaded = try #require(file[tensor.name])
            #expect(loaded.shape == tensor.shape)
            // Bit patterns, so -0.0 and infinities count too.
            #expect(loaded.values.map(\.bitPattern) == tensor.values.map(\.bitPattern))
        }
        #expect(file.header.headerLength % 8 == 0)
        #expect(dir.contents() == ["weights.safetensors"], "the temporary file must be gone")
    }

    @Test func readHeaderAgreesWithAFullReadAndNeedsNoData() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("w.safetensors")
        try SafeTensors.write(sampleTensors, metadata: sampleMetadata, to: path)
        let header = try SafeTensors.readHeader(path)
        #expect(header == (try SafeTensors.read(path)).header)
        #expect(header["transformer.wte.weight"]?.shape == [3, 4])
        #expect(header["transformer.wte.weight"]?.elementCount == 12)
        #expect(header.fileSize == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int))
    }

    @Test func encodeProducesTheBytesThatWriteStores() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("w.safetensors")
        try SafeTensors.write(sampleTensors, metadata: sampleMetadata, to: path)
        let onDisk = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(onDisk == (try SafeTensors.encode(sampleTensors, metadata: sampleMetadata)))
        #expect(try SafeTensors.decode(onDisk).tensors.count == sampleTensors.count)
    }

    @Test func viewsIntoCallerMemoryWriteTheSameAsArrays() throws {
        let flat: [Float] = (0..<16).map(Float.init)
        let fromArrays = try SafeTensors.encode([
            NamedTensor(name: "b", shape: [2, 2], values: Array(flat[0..<4])),
            NamedTensor(name: "a", shape: [12], values: Array(flat[4...])),
        ])
        let fromViews = try flat.withUnsafeBufferPointer { buffer in
            try SafeTensors.encode([
                TensorView(name: "b", shape: [2, 2], values: UnsafeBufferPointer(rebasing: buffer[0..<4])),
                TensorView(name: "a", shape: [12], values: UnsafeBufferPointer(rebasing: buffer[4...])),
            ])
        }
        #expect(fromArrays == fromViews)
    }

    @Test func readsAFileWrittenByPythonSafetensors() throws {
        let file = try SafeTensors.read(try fixturePath("python-written.safetensors"))
        #expect(file.metadata == ["format": "nanoscope/1", "note": "written by Python safetensors ✓", "step": "7"])
        #expect(file["transformer.wte.weight"]?.shape == [3, 4])
        #expect(file["transformer.wte.weight"]?.values == (0..<12).map { Float($0) * 0.25 - 1 })
        #expect(file["a.cube"]?.values == (0..<24).map { Float($0) * 0.25 - 1 })
        #expect(file["transformer.ln_f.weight"]?.values == [1.5, -2.0, 3.25, 1e-7])
        #expect(file["scalar"] == NamedTensor(name: "scalar", shape: [], values: [42]))
        #expect(file["empty"] == NamedTensor(name: "empty", shape: [0, 5], values: []))
    }

    @Test func writesTheSameBytesAsPythonSafetensors() throws {
        let python = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try fixturePath("python-written-one-key.safetensors"))))
        let loaded = try SafeTensors.decode(python)
        #expect(try SafeTensors.encode(loaded.tensors.reversed(), metadata: loaded.metadata) == python)
    }

    @Test func writerRefusesInconsistentTensors() {
        let cases: [([NamedTensor], String)] = [
            ([NamedTensor(name: "a", shape: [2, 2], values: [1, 2, 3])], "has 3 values but shape [2, 2]"),
            ([NamedTensor(name: "a", shape: [1], values: [1]), NamedTensor(name: "a", shape: [1], values: [2])], "two tensors are named 'a'"),
            ([NamedTensor(name: "__metadata__", shape: [1], values: [1])], "cannot be named __metadata__"),
            ([NamedTensor(name: "a", shape: [-1, -2], values: [1, 2])], "negative dimension"),
        ]
        for (tensors, message) in cases {
            let error = expectError(CheckpointError.self) { _ = try SafeTensors.encode(tensors) }
            #expect(error?.problem.contains(message) == true, "\(error?.description ?? "no error")")
        }
    }
}

@Suite struct SafeTensorsHostileFiles {
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let bytes: [UInt8]
        /// A phrase the error message must contain.
        let expected: String
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "empty file", bytes: [], expected: "too short"),
        Case(label: "7 bytes", bytes: [1, 0, 0, 0, 0, 0, 0], expected: "too short"),
        Case(label: "header length u64 max", bytes: craftFile(header: "{}", declaredLength: .max), expected: "exceeds the 100000000-byte limit"),
        Case(label: "header length just over the cap", bytes: craftFile(header: "{}", declaredLength: 100_000_001), expected: "exceeds"),
        Case(label: "header longer than the file", bytes: craftFile(header: "{}", declaredLength: 200), expected: "truncated: the header claims 200 bytes"),
        Case(label: "zero header length", bytes: craftFile(header: "{}", declaredLength: 0), expected: "header is empty"),
        Case(label: "header not UTF-8", bytes: craftFile(header: "{}") .enumerated().map { $0.offset == 9 ? 0xFF : $0.element }, expected: "not valid UTF-8"),
        Case(label: "cut-off JSON", bytes: craftFile(header: #"{"a":"#), expected: "not valid JSON"),
        Case(label: "garbage after JSON", bytes: craftFile(header: "{} x"), expected: "unexpected data after"),
        Case(label: "top-level array", bytes: craftFile(header: "[]"), expected: "must be a JSON object, found an array"),
        Case(label: "entry is a number", bytes: craftFile(header: #"{"a":5}"#), expected: "entry must be an object, found a number"),
        Case(label: "F64 dtype", bytes: craftFile(header: #"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#, dataBytes: 16), expected: "has dtype F64; only F32, BF16 and F16"),
        Case(label: "BF16 sized as F32", bytes: craftFile(header: #"{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 8), expected: "hold 8 bytes, but BF16 shape [2] needs 4"),
        Case(label: "F16 runs past the end", bytes: craftFile(header: #"{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#, dataBytes: 4), expected: "truncated"),
        Case(label: "F16 odd trailing byte", bytes: craftFile(header: #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, dataBytes: 5), expected: "1 bytes after the last tensor"),
        Case(label: "dtype not a string", bytes: craftFile(header: #"{"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4), expected: "'dtype' is a number"),
        Case(label: "dtype missing", bytes: craftFile(header: #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4), expected: "missing 'dtype'"),
        Case(label: "shape missing", bytes: craftFile(header: #"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, dataBytes: 4), expected: "missing 'shape'"),
        Case(label: "offsets missing", bytes: craftFile(header: #"{"a":{"dtype":"F32","shape":[1]}}"#, dataBytes: 4), expected: "missing 'data_offsets'"),
        Case(label: "shape not an array", bytes: craftFile(header: #"{"a":{"dtype":"F32","shape":"3","data_offsets":[0,12]}}"#, dataBytes: 12), expected: "'shape' is a string, not an array"),
        Case(label: "negative shape", bytes: craftFile(header: "{" + entry("a", shape: [-1], 0, 4) + "}", dataBytes: 4), expected: "-1, a negative number"),
        Case(label: "fractional shape", bytes: craftFile(header: #"{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,10]}}"#, dataBytes: 10), expected: "2.5, not a whole number"),
        Case(label: "exponent shape", bytes: craftFile(header: #"{"a":{"dtype":"F32","shape":[1e1],"data_offsets":[0,40]}}"#, dataBytes: 40), expected: "1e1, not a whole number"),
        Case(label: "shape element is null", bytes: craftFile(header: #"{"a":{"dtype":"F32","shape":[null],"data_offsets":[0,4]}}"#, dataBytes: 4), expected: "null, not a number"),
        Case(label: "huge shape number", bytes: craftFile(header: #"{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}"#, dataBytes: 4), expected: "too large"),
        Case(label: "shape product overflows", bytes: craftFile(header: "{" + entry("a", shape: [4294967296, 4294967296], 0, 4) + "}", dataBytes: 4), expected: "too many elements"),
        Case(label: "byte count overflows", bytes: craftFile(header: "{" + entry("a", shape: [Int.max / 2], 0, 4) + "}", dataBytes: 4), expected: "too many elements"),
        Case(label: "offsets disagree with shape", bytes: craftFile(header: "{" + entry("a", shape: [3], 0, 8) + "}", dataBytes: 8), expected: "hold 8 bytes, but F32 shape [3] needs 12"),
        Case(label: "three offsets", bytes: craftFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, dataBytes: 4), expected: "exactly [begin, end]"),
        Case(label: "negative offset", bytes: craftFile(header: "{" + entry("a", shape: [1], -4, 0) + "}", dataBytes: 4), expected: "negative"),
        Case(label: "offsets reversed", bytes: craftFile(header: "{" + entry("a", shape: [1], 4, 0) + "}", dataBytes: 4), expected: "end before they begin"),
        Case(label: "overlap", bytes: craftFile(header: "{" + entry("a", shape: [2], 0, 8) + "," + entry("b", shape: [2], 4, 12) + "}", dataBytes: 12), expected: "'b' overlaps tensor 'a'"),
        Case(label: "hole", bytes: craftFile(header: "{" + entry("a", shape: [2], 0, 8) + "," + entry("b", shape: [2], 12, 20) + "}", dataBytes: 20), expected: "data bytes 8..<12 belong to no tensor"),
        Case(label: "hole at the start", bytes: craftFile(header: "{" + entry("a", shape: [1], 4, 8) + "}", dataBytes: 8), expected: "data bytes 0..<4 belong to no tensor"),
        Case(label: "runs past the end", bytes: craftFile(header: "{" + entry("a", shape: [2], 0, 8) + "}", dataBytes: 4), expected: "truncated: tensor 'a' ends at data byte 8"),
        Case(label: "far past the end", bytes: craftFile(header: "{" + entry("a", shape: [1 << 40], 0, 1 << 42) + "}", dataBytes: 4), expected: "truncated"),
        Case(label: "trailing bytes", bytes: craftFile(header: "{" + entry("a", shape: [2], 0, 8) + "}", dataBytes: 12), expected: "4 bytes after the last tensor"),
        Case(label: "duplicate name", bytes: craftFile(header: "{" + entry("a", shape: [1], 0, 4) + "," + entry("a", shape: [1], 4, 8) + "}", dataBytes: 8), expected: "tensor 'a' appears twice"),
        Case(label: "duplicate field", bytes: craftFile(header: #"{"a":{"dtype":"F32","shape":[1],"shape":[2],"data_offsets":[0,4]}}"#, dataBytes: 4), expected: "'shape' appears twice"),
        Case(label: "metadata value a number", bytes: craftFile(header: #"{"__metadata__":{"step":500}}"#), expected: "value for 'step' is a number, not a string"),
        Case(label: "metadata an array", bytes: craftFile(header: #"{"__metadata__":["a"]}"#), expected: "must be an object of strings, found an array"),
        Case(label: "metadata twice", bytes: craftFile(header: #"{"__metadata__":{},"__metadata__":{}}"#), expected: "two __metadata__ entries"),
        Case(label: "metadata key twice", bytes: craftFile(header: #"{"__metadata__":{"k":"1","k":"2"}}"#), expected: "has the key 'k' twice"),
        Case(label: "deep nesting", bytes: craftFile(header: String(repeating: "[", count: 100_000)), expected: "nested deeper than 64 levels"),
        Case(label: "lone surrogate", bytes: craftFile(header: #"{"\ud800":1}"#), expected: "unpaired UTF-16 surrogate"),
        Case(label: "raw control character", bytes: craftFile(header: "{\"a\u{01}\":1}"), expected: "control character"),
        Case(label: "bad escape", bytes: craftFile(header: #"{"\q":1}"#), expected: "invalid escape"),
    ]

    @Test(arguments: cases)
    func isRefusedWithAClearMessage(_ c: Case) throws {
        let error = expectError(CheckpointError.self) { _ = try SafeTensors.decode(c.bytes, path: "hostile.safetensors") }
        #expect(error?.path == "hostile.safetensors")
        #expect(error?.problem.contains(c.expected) == true, "got: \(error?.problem ?? "no error")")
    }

    @Test func theSameFilesAreRefusedFromDiskByBothReaders() throws {
        let dir = TemporaryDirectory()
        for (i, c) in Self.cases.enumerated() {
            let path = dir.file("case-\(i).safetensors")
            try Data(c.bytes).write(to: URL(fileURLWithPath: path))
            let full = expectError(CheckpointError.self) { _ = try SafeTensors.read(path) }
            let headerOnly = expectError(CheckpointError.self) { _ = try SafeTensors.readHeader(path) }
            #expect(full?.path == path)
            #expect(full == headerOnly, "\(c.label): the header reader must catch every layout problem")
        }
    }

    @Test func acceptsWhatTheFormatAllows() throws {
        // Leading whitespace, padding, unknown fields, a null metadata map.
        let text = "  {\"__metadata__\":null," + #""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":{"x":[1]}}}"# + "      "
        let file = try SafeTensors.decode(craftFile(header: text, dataBytes: 4))
        #expect(file.metadata.isEmpty)
        #expect(file["a"]?.shape == [1])
        // Escaped names decode.
        let escaped = try SafeTensors.decode(craftFile(header: "{" + entry(#"\u00e9\ud83d\ude42\n"#, shape: [1], 0, 4) + "}", dataBytes: 4))
        #expect(escaped["é🙂\n"] != nil)
    }

    @Test func refusesThingsThatAreNotRegularFiles() throws {
        let dir = TemporaryDirectory()
        let error = expectError(CheckpointError.self) { _ = try SafeTensors.read(dir.path) }
        #expect(error?.problem == "not a regular file")
        let fifo = dir.file("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        let fifoError = expectError(CheckpointError.self) { _ = try SafeTensors.readHeader(fifo) }
        #expect(fifoError?.problem == "not a regular file")
        let missing = expectError(CheckpointError.self) { _ = try SafeTensors.read(dir.file("nope.safetensors")) }
        #expect(missing?.problem.contains("No such file or directory") == true)
    }
}

@Suite struct SafeTensorsFuzz {
    /// Every mutation of a valid file must either load into a self-consistent result or be refused
    /// with a CheckpointError; a crash fails the whole test run.
    @Test func mutatedFilesLoadConsistentlyOrAreRefused() throws {
        let original = try SafeTensors.encode(sampleTensors, metadata: sampleMetadata)
        let headerEnd = 8 + Int(original[0]) + Int(original[1]) << 8
        var rng = SplitMix64(seed: 0x5AFE_7E45)
        var loaded = 0, refused = 0

        for round in 0..<1500 {
            var bytes = original
            switch round % 6 {
            case 0:  // truncation anywhere
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
            case 1:  // flip a few bits in the header
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    bytes[Int.random(in: 8..<headerEnd, using: &rng)] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
                }
            case 2:  // overwrite a header byte with a JSON-significant one
                let significant = Array(#"{}[]":,-0123456789.eE\ "#.utf8)
                bytes[Int.random(in: 8..<headerEnd, using: &rng)] = significant.randomElement(using: &rng)!
            case 3:  // a bad length field
                let length: UInt64 = [0, 1, 7, UInt64(headerEnd - 9), UInt64(headerEnd - 7), UInt64(bytes.count), .max,
                                      UInt64.random(in: 0...UInt64.max, using: &rng)].randomElement(using: &rng)!
                withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
            case 4:  // bytes added or removed in the middle
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                if Bool.random(using: &rng) {
                    bytes.insert(contentsOf: (0..<Int.random(in: 1...9, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
                } else {
                    bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...9, using: &rng)))
                }
            default:  // a crafted header with random numbers in the layout
                let dims = (0..<Int.random(in: 0...3, using: &rng)).map { _ in [-1, 0, 1, 3, 1 << 31, 1 << 62].randomElement(using: &rng)! }
                let begin = [-4, 0, 4, 1 << 62].randomElement(using: &rng)!
                let end = begin &+ [-4, 0, 4, 12, 1 << 40].randomElement(using: &rng)!
                let header = "{" + entry("t", shape: dims, begin, end) + (Bool.random(using: &rng) ? "," + entry("u", shape: [1], end, end &+ 4) : "") + "}"
                bytes = craftFile(header: header, dataBytes: Int.random(in: 0...24, using: &rng))
            }

            do {
                let file = try SafeTensors.decode(bytes, path: "fuzz")
                loaded += 1
                // Consistency of whatever was accepted.
                var position = 0
                for (tensor, entry) in zip(file.tensors, file.header.tensors) {
                    #expect(tensor.values.count == tensor.shape.reduce(1, *))
                    #expect(entry.dataOffsets.lowerBound == position)
                    position = entry.dataOffsets.upperBound
                }
                #expect(file.header.dataStart + position == bytes.count)
            } catch {
                // decode throws only CheckpointError, so reaching here means a clean refusal.
                refused += 1
                #expect(error.path == "fuzz")
                #expect(!error.problem.isEmpty)
            }
        }
        #expect(loaded + refused == 1500)
        #expect(refused > 1000, "most mutations should be refused (loaded \(loaded))")
    }
}


/// Path of a committed fixture file.
func fixturePath(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil))
    return url.path
}

/// BF16 and F16 tensors (as `safetensors.torch.save_file` writes a half-precision state dict)
/// load widened to float32, exactly.
@Suite struct SafeTensorsHalfPrecision {
    static func file(dtype: String, bits: [UInt16], shape: [Int]) -> [UInt8] {
        let header = "{\"w\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[0,\(2 * bits.count)]}}"
        var bytes = craftFile(header: header, dataBytes: 0)
        for b in bits { bytes += [UInt8(b & 0xFF), UInt8(b >> 8)] }
        return bytes
    }

    @Test func bfloat16AndFloat16TensorsAreWidenedExactly() throws {
        // 1, −2, 0.5 (well, 3.140625), the largest finite, +∞, a subnormal, −0.
        let bf: [UInt16] = [0x3F80, 0xC000, 0x4049, 0x7F7F, 0x7F80, 0x0001, 0x8000]
        let bfFile = try SafeTensors.decode(Self.file(dtype: "BF16", bits: bf, shape: [7]))
        let bfValues = try #require(bfFile["w"]).values
        #expect(bfValues.map(\.bitPattern) == bf.map { UInt32($0) << 16 })
        #expect(bfFile.header["w"]?.dtype == "BF16")
        let h: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x7C00, 0xFC00, 0x8000]
        let hValues = try #require(try SafeTensors.decode(Self.file(dtype: "F16", bits: h, shape: [2, 4]))["w"])
        #expect(hValues.shape == [2, 4])
        #expect(hValues.values == [1, -2, 65504, 5.9604645e-08, 6.0975552e-05, .infinity, -.infinity, -0])
        #expect(hValues.values[7].sign == .minus)
    }
}
