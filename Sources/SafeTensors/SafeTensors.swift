#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The safetensors format (https://github.com/huggingface/safetensors), as Nanoscope reads and
// writes it:
//
//     [8 bytes]  N, the header length, unsigned 64-bit little-endian
//     [N bytes]  UTF-8 JSON object, padded with spaces so that N is a multiple of 8:
//                  { "__metadata__": { "format": "nanoscope/1", … },          (optional, string → string)
//                    "transformer.wte.weight": { "dtype": "F32", "shape": [65, 128],
//                                                "data_offsets": [0, 33280] },
//                    … }
//     [rest]     the data buffer: every tensor's bytes, row-major, little-endian; data_offsets are
//                [begin, end) byte positions relative to the start of this buffer.
//
// The tensors tile the buffer exactly: no overlaps, no holes, nothing after the last one — the
// same rule the Rust library enforces, so any file we accept, Python accepts too.

/// One tensor's entry in a safetensors header.
public struct TensorEntry: Sendable, Equatable {
    public let name: String
    /// Element type: Nanoscope writes `F32`, and reads `F32`, `BF16` and `F16` (widened to
    /// float32 on load, exactly: every 16-bit value is a float32).
    public let dtype: String
    public let shape: [Int]
    /// Byte range in the data buffer (relative to the end of the header).
    public let dataOffsets: Range<Int>

    /// Number of elements (1 for a scalar of shape `[]`).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// What a safetensors file declares, read without touching the tensor data.
public struct SafeTensorsHeader: Sendable, Equatable {
    /// In the order their data appears in the file.
    public let tensors: [TensorEntry]
    /// The `__metadata__` map (empty when the file has none).
    public let metadata: [String: String]
    /// N: length of the JSON header in bytes.
    public let headerLength: Int
    /// Total file size in bytes.
    public let fileSize: Int

    /// File offset where the data buffer begins.
    public var dataStart: Int { 8 + headerLength }

    public subscript(name: String) -> TensorEntry? { tensors.first { $0.name == name } }
}

/// A named F32 tensor held in memory, row-major.
public struct NamedTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// A complete safetensors file loaded into memory.
public struct SafeTensorsFile: Sendable, Equatable {
    public let header: SafeTensorsHeader
    /// In file order.
    public let tensors: [NamedTensor]
    private let indexByName: [String: Int]

    public init(header: SafeTensorsHeader, tensors: [NamedTensor]) {
        self.header = header
        self.tensors = tensors
        indexByName = Dictionary(tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var metadata: [String: String] { header.metadata }

    public subscript(name: String) -> NamedTensor? { indexByName[name].map { tensors[$0] } }
}

/// Something the writer can take tensor bytes from: an array, or a view into a model's flat buffer.
public protocol WritableTensor {
    var name: String { get }
    var shape: [Int] { get }
    /// Lends the values (row-major) for the duration of `body`.
    func withUnsafeValues<R, E: Error>(_ body: (UnsafeBufferPointer<Float>) throws(E) -> R) throws(E) -> R
}

extension NamedTensor: WritableTensor {
    public func withUnsafeValues<R, E: Error>(_ body: (UnsafeBufferPointer<Float>) throws(E) -> R) throws(E) -> R {
        try values.withUnsafeBufferPointer(body)
    }
}

/// A tensor whose values live in memory the caller owns (e.g. a slice of the parameter buffer).
/// The memory must stay valid and unchanged while a write that uses the view runs.
public struct TensorView: WritableTensor {
    public let name: String
    public let shape: [Int]
    public let values: UnsafeBufferPointer<Float>

    public init(name: String, shape: [Int], values: UnsafeBufferPointer<Float>) {
        self.name = name
        self.shape = shape
        self.values = values
    }

    public func withUnsafeValues<R, E: Error>(_ body: (UnsafeBufferPointer<Float>) throws(E) -> R) throws(E) -> R {
        try body(values)
    }
}

/// Reading and writing safetensors files (F32 only).
public enum SafeTensors {
    /// Headers longer than this are refused before anything is allocated for them. The Rust
    /// library uses the same bound; a real header is a few kilobytes.
    public static let maxHeaderLength = 100_000_000
    /// The key of the string → string map in the header.
    public static let metadataKey = "__metadata__"

    // MARK: Reading

    /// Reads only the header: tensor names, shapes, offsets and metadata. Cheap (a few kB of I/O)
    /// however large the file, and still checks the declared layout against the real file size,
    /// so a truncated file is caught here too.
    public static func readHeader(_ path: String) throws(CheckpointError) -> SafeTensorsHeader {
        let file = try FileSource(path: path)
        defer { file.close() }
        return try parseHeader(from: file)
    }

    /// Reads a whole file, validating everything before allocating tensor memory.
    public static func read(_ path: String) throws(CheckpointError) -> SafeTensorsFile {
        let file = try FileSource(path: path)
        defer { file.close() }
        return try load(from: file)
    }

    /// Decodes a file already in memory (`path` only names it in errors).
    public static func decode(_ bytes: [UInt8], path: String = "<memory>") throws(CheckpointError) -> SafeTensorsFile {
        try load(from: MemorySource(bytes: bytes, path: path))
    }

    static func load(from source: some ByteSource) throws(CheckpointError) -> SafeTensorsFile {
        let header = try parseHeader(from: source)
        var tensors: [NamedTensor] = []
        tensors.reserveCapacity(header.tensors.count)
        for entry in header.tensors {
            if entry.dtype != "F32" {
                tensors.append(NamedTensor(name: entry.name, shape: entry.shape,
                                           values: try readHalves(entry, from: source, dataStart: header.dataStart)))
                continue
            }
            // Safe to allocate: parseHeader proved the range lies inside the real file.
            var failure: CheckpointError?
            let values = [Float](unsafeUninitializedCapacity: entry.elementCount) { buffer, initialized in
                do {
                    try source.read(into: UnsafeMutableRawBufferPointer(buffer), at: header.dataStart + entry.dataOffsets.lowerBound)
                    initialized = entry.elementCount
                } catch {
                    failure = error as? CheckpointError ?? CheckpointError(source.path, "\(error)")
                    initialized = 0
                }
            }
            if let failure { throw failure }
            tensors.append(NamedTensor(name: entry.name, shape: entry.shape, values: littleEndianToHost(values)))
        }
        return SafeTensorsFile(header: header, tensors: tensors)
    }

    /// Bytes per element of the dtypes read.
    static let elementSizes = ["F32": 4, "BF16": 2, "F16": 2]

    /// A BF16 or F16 tensor (little-endian 16-bit patterns) widened to float32.
    static func readHalves(_ entry: TensorEntry, from source: some ByteSource, dataStart: Int) throws(CheckpointError) -> [Float] {
        var bits = [UInt16](repeating: 0, count: entry.elementCount)
        var failure: CheckpointError?
        bits.withUnsafeMutableBytes { raw in
            do { try source.read(into: raw, at: dataStart + entry.dataOffsets.lowerBound) } catch { failure = error as? CheckpointError ?? CheckpointError(source.path, "\(error)") }
        }
        if let failure { throw failure }
        let bf16 = entry.dtype == "BF16"
        return bits.map { le in
            let b = UInt16(littleEndian: le)
            return bf16 ? Float(bitPattern: UInt32(b) << 16) : widenFloat16(b)
        }
    }

    /// The float32 an IEEE binary16 pattern stands for (exact; NaN payloads kept).
    static func widenFloat16(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F, mantissa = UInt32(h) & 0x3FF
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        if exponent == 0 { return Float(bitPattern: sign | (Float(mantissa) * Float(bitPattern: 0x3380_0000)).bitPattern) }
        return Float(bitPattern: sign | ((exponent + 127 - 15) << 23) | (mantissa << 13))
    }

    static func parseHeader(from source: some ByteSource) throws(CheckpointError) -> SafeTensorsHeader {
        func fail(_ problem: String) -> CheckpointError { CheckpointError(source.path, problem) }

        let size = source.size
        guard size >= 8 else {
            throw fail("not a safetensors file: \(size) bytes is too short to hold the 8-byte header length")
        }
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        try lengthBytes.withUnsafeMutableBufferPointer { raw throws(CheckpointError) in
            try source.read(into: UnsafeMutableRawBufferPointer(raw), at: 0)
        }
        let declared = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard declared <= UInt64(maxHeaderLength) else {
            throw fail("not a safetensors file: header length \(declared) exceeds the \(maxHeaderLength)-byte limit")
        }
        let headerLength = Int(declared)
        guard headerLength <= size - 8 else {
            throw fail("truncated: the header claims \(headerLength) bytes but only \(size - 8) follow the length field")
        }
        guard headerLength > 0 else { throw fail("not a safetensors file: the header is empty") }

        var headerBytes = [UInt8](repeating: 0, count: headerLength)
        try headerBytes.withUnsafeMutableBufferPointer { raw throws(CheckpointError) in
            try source.read(into: UnsafeMutableRawBufferPointer(raw), at: 8)
        }
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw fail("the header is not valid UTF-8 text")
        }
        let json: StrictJSON
        do {
            json = try StrictJSON.parse(headerBytes)
        } catch {
            throw fail("the header is not valid JSON: \(error.message) (at byte \(8 + error.offset))")
        }
        guard case .object(let members) = json else {
            throw fail("the header must be a JSON object, found \(json.kindDescription)")
        }

        var metadata: [String: String]?
        var entries: [TensorEntry] = []
        var seen = Set<String>()
        for (key, value) in members {
            guard seen.insert(key).inserted else {
                throw fail(key == metadataKey ? "the header has two \(metadataKey) entries"
                                              : "tensor '\(key)' appears twice in the header")
            }
            if key == metadataKey {
                metadata = try parseMetadata(value, fail: fail)
            } else {
                entries.append(try parseEntry(name: key, value, fail: fail))
            }
        }
        let dataLength = size - 8 - headerLength
        try checkLayout(entries, dataLength: dataLength, fail: fail)
        entries.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        return SafeTensorsHeader(tensors: entries, metadata: metadata ?? [:], headerLength: headerLength, fileSize: size)
    }

    private static func parseMetadata(
        _ value: StrictJSON, fail: (String) -> CheckpointError
    ) throws(CheckpointError) -> [String: String] {
        if value == .null { return [:] }
        guard case .object(let members) = value else {
            throw fail("\(metadataKey) must be an object of strings, found \(value.kindDescription)")
        }
        var metadata: [String: String] = [:]
        for (key, item) in members {
            guard case .string(let text) = item else {
                throw fail("\(metadataKey) value for '\(key)' is \(item.kindDescription), not a string")
            }
            guard metadata.updateValue(text, forKey: key) == nil else {
                throw fail("\(metadataKey) has the key '\(key)' twice")
            }
        }
        return metadata
    }

    private static func parseEntry(
        name: String, _ value: StrictJSON, fail: (String) -> CheckpointError
    ) throws(CheckpointError) -> TensorEntry {
        guard case .object(let fields) = value else {
            throw fail("tensor '\(name)': entry must be an object, found \(value.kindDescription)")
        }
        var byKey: [String: StrictJSON] = [:]
        for (key, field) in fields {
            guard byKey.updateValue(field, forKey: key) == nil else { throw fail("tensor '\(name)': '\(key)' appears twice") }
        }
        guard let dtypeValue = byKey["dtype"] else { throw fail("tensor '\(name)': missing 'dtype'") }
        guard case .string(let dtype) = dtypeValue else {
            throw fail("tensor '\(name)': 'dtype' is \(dtypeValue.kindDescription), not a string")
        }
        guard let elementSize = elementSizes[dtype] else {
            throw fail("tensor '\(name)' has dtype \(dtype); only F32, BF16 and F16 are supported")
        }
        let shape = try integerList(byKey["shape"], field: "shape", tensor: name, fail: fail)
        let offsets = try integerList(byKey["data_offsets"], field: "data_offsets", tensor: name, fail: fail)
        guard offsets.count == 2 else {
            throw fail("tensor '\(name)': 'data_offsets' must hold exactly [begin, end], found \(offsets.count) numbers")
        }

        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw fail("tensor '\(name)': shape \(shape) has too many elements") }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow else { throw fail("tensor '\(name)': shape \(shape) has too many elements") }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else {
            throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] end before they begin")
        }
        guard end - begin == byteCount else {
            throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but \(dtype) shape \(shape) needs \(byteCount)")
        }
        return TensorEntry(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    private static func integerList(
        _ value: StrictJSON?, field: String, tensor: String, fail: (String) -> CheckpointError
    ) throws(CheckpointError) -> [Int] {
        guard let value else { throw fail("tensor '\(tensor)': missing '\(field)'") }
        guard case .array(let items) = value else {
            throw fail("tensor '\(tensor)': '\(field)' is \(value.kindDescription), not an array")
        }
        var numbers: [Int] = []
        for item in items {
            do {
                numbers.append(try item.nonNegativeInt())
            } catch {
                throw fail("tensor '\(tensor)': '\(field)' holds \(error.description); expected non-negative whole numbers")
            }
        }
        return numbers
    }

    /// The tensors must tile the data buffer: sorted by offset, each begins where the last ended,
    /// the first at 0 and the last at the end of the file.
    private static func checkLayout(
        _ entries: [TensorEntry], dataLength: Int, fail: (String) -> CheckpointError
    ) throws(CheckpointError) {
        for entry in entries where entry.dataOffsets.upperBound > dataLength {
            throw fail("truncated: tensor '\(entry.name)' ends at data byte \(entry.dataOffsets.upperBound), but the file holds only \(dataLength) data bytes")
        }
        let ordered = entries.sorted {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound)
        }
        var expected = 0
        var previous: String?
        for entry in ordered {
            let begin = entry.dataOffsets.lowerBound
            if begin < expected {
                throw fail("tensor '\(entry.name)' overlaps tensor '\(previous ?? "?")' (it begins at data byte \(begin), before \(expected))")
            }
            if begin > expected {
                throw fail("data bytes \(expected)..<\(begin) belong to no tensor (a hole before '\(entry.name)')")
            }
            expected = entry.dataOffsets.upperBound
            previous = entry.name
        }
        if expected != dataLength {
            throw fail("\(dataLength - expected) bytes after the last tensor belong to no tensor")
        }
    }

    private static func littleEndianToHost(_ values: [Float]) -> [Float] {
        #if _endian(big)
        return values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
        #else
        return values
        #endif
    }

    // MARK: Writing

    /// Writes `tensors` and `metadata` to `path` atomically (see `AtomicFile`).
    ///
    /// Tensors are stored sorted by name, as the Python library does, so the same state always
    /// produces the same bytes.
    public static func write(
        _ tensors: [any WritableTensor], metadata: [String: String] = [:], to path: String
    ) throws(CheckpointError) {
        let (header, order) = try makeHeader(tensors, metadata: metadata, path: path)
        try AtomicFile.write(to: path) { sink throws(CheckpointError) in
            try emit(header: header, tensors: order.map { tensors[$0] }, to: &sink)
        }
    }

    /// The file as bytes in memory (tests, small files).
    public static func encode(_ tensors: [any WritableTensor], metadata: [String: String] = [:]) throws(CheckpointError) -> [UInt8] {
        let (header, order) = try makeHeader(tensors, metadata: metadata, path: "<memory>")
        var bytes = header
        for index in order {
            tensors[index].withUnsafeValues { values in
                for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            }
        }
        return bytes
    }

    /// Length field + padded JSON header, and the order in which tensor data follows.
    private static func makeHeader(
        _ tensors: [any WritableTensor], metadata: [String: String], path: String
    ) throws(CheckpointError) -> (bytes: [UInt8], order: [Int]) {
        var names = Set<String>()
        for tensor in tensors {
            guard tensor.name != metadataKey else { throw CheckpointError(path, "a tensor cannot be named \(metadataKey)") }
            guard names.insert(tensor.name).inserted else { throw CheckpointError(path, "two tensors are named '\(tensor.name)'") }
            guard tensor.shape.allSatisfy({ $0 >= 0 }) else {
                throw CheckpointError(path, "tensor '\(tensor.name)' has a negative dimension in shape \(tensor.shape)")
            }
            let count = tensor.withUnsafeValues { $0.count }
            guard tensor.shape.reduce(1, *) == count else {
                throw CheckpointError(path, "tensor '\(tensor.name)' has \(count) values but shape \(tensor.shape)")
            }
        }
        // Byte-wise name order, as Rust sorts strings.
        let order = tensors.indices.sorted { Array(tensors[$0].name.utf8).lexicographicallyPrecedes(tensors[$1].name.utf8) }

        var members: [(key: String, value: StrictJSON)] = []
        if !metadata.isEmpty {
            let sortedMetadata = metadata.sorted { $0.key < $1.key }.map { (key: $0.key, value: StrictJSON.string($0.value)) }
            members.append((metadataKey, .object(sortedMetadata)))
        }
        var offset = 0
        for index in order {
            let tensor = tensors[index]
            let byteCount = tensor.shape.reduce(1, *) * MemoryLayout<Float>.size
            members.append((tensor.name, .object([
                ("dtype", .string("F32")),
                ("shape", .array(tensor.shape.map { .number($0) })),
                ("data_offsets", .array([.number(offset), .number(offset + byteCount)])),
            ])))
            offset += byteCount
        }
        var json = Array(StrictJSON.object(members).serialized.utf8)
        // Padding keeps the data buffer 8-byte aligned for readers that map the file.
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + json.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: json)
        return (bytes, order)
    }

    private static func emit(header: [UInt8], tensors: [any WritableTensor], to sink: inout FileSink) throws(CheckpointError) {
        try sink.write(header)
        for tensor in tensors {
            try tensor.withUnsafeValues { values throws(CheckpointError) in
                #if _endian(big)
                try sink.write(values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Array($0) })
                #else
                try sink.write(UnsafeRawBufferPointer(values))
                #endif
            }
        }
    }
}

// MARK: - Byte sources

/// Random-access bytes of known size: a file, or an array in tests.
protocol ByteSource {
    var path: String { get }
    var size: Int { get }
    /// Fills `buffer` with the bytes at `offset`; throws if they are not all there.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(CheckpointError)
}

struct MemorySource: ByteSource {
    let bytes: [UInt8]
    let path: String
    var size: Int { bytes.count }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(CheckpointError) {
        guard offset >= 0, offset <= bytes.count - buffer.count else {
            throw CheckpointError(path, "truncated: needed bytes \(offset)..<\(offset + buffer.count) of \(bytes.count)")
        }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + buffer.count]))
        }
    }
}

/// An open regular file; its size is taken once, when it is opened.
struct FileSource: ByteSource {
    let path: String
    let fd: Int32
    let size: Int

    init(path: String) throws(CheckpointError) {
        self.path = path
        // O_NONBLOCK so that opening a FIFO by mistake cannot hang; it is refused just below.
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw CheckpointError.system(path, "cannot open", errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            closeDescriptor(fd)
            throw CheckpointError.system(path, "cannot read file information", errno: code)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            closeDescriptor(fd)
            throw CheckpointError(path, "not a regular file")
        }
        size = Int(info.st_size)
    }

    func close() { closeDescriptor(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(CheckpointError) {
        guard var next = buffer.baseAddress else { return }
        var remaining = buffer.count
        var position = offset
        while remaining > 0 {
            let n = pread(fd, next, remaining, off_t(position))
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.system(path, "cannot read", errno: errno)
            }
            if n == 0 {
                throw CheckpointError(path, "truncated: the file ended at byte \(position) while reading (did it shrink while being read?)")
            }
            next += n
            remaining -= n
            position += n
        }
    }
}

/// `close(2)`, named apart from `FileSource.close`.
private func closeDescriptor(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}
