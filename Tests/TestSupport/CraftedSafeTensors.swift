/// Builds a safetensors file by hand: the 8-byte length (or `declaredLength`), the header text,
/// then `dataBytes` bytes of data.
public func craftFile(header: String, dataBytes: Int = 0, declaredLength: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    var bytes: [UInt8] = []
    withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { bytes.append(contentsOf: $0) }
    bytes += json
    bytes += (0..<dataBytes).map { UInt8(truncatingIfNeeded: $0) }
    return bytes
}

/// Header text for one F32 tensor entry.
public func entry(_ name: String, shape: [Int], _ begin: Int, _ end: Int) -> String {
    "\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
}
