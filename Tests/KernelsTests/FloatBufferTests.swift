import Foundation
import Kernels
import Testing

@Suite struct FloatBufferTests {
    /// The kB of 2 MB pages backing the mapping that holds `address`, from /proc/self/smaps.
    static func hugePageKilobytes(at address: UInt) throws -> Int? {
        // Read to the end: /proc files report a size of 0, which some readers take at its word.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var inside = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = bounds.count == 2 && (bounds[0]..<bounds[1]).contains(address)
            } else if inside, fields.first == "AnonHugePages:", fields.count >= 2 {
                return Int(fields[1])
            }
        }
        return nil
    }

    @Test func aBufferOnHugePagesIsBackedByThem() throws {
        let floats = 3 << 18  // 3 MB: two 2 MB pages
        let buffer = FloatBuffer(count: floats, onHugePages: true)
        #expect(UInt(bitPattern: buffer.pointer) % (2 << 20) == 0)
        #expect((0..<floats).allSatisfy { buffer[$0] == 0 })
        let mode = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)) ?? ""
        let kernelDeclines = mode.contains("[never]") || mode.isEmpty
        let kilobytes = try #require(try Self.hugePageKilobytes(at: UInt(bitPattern: buffer.pointer)))
        // Where the kernel grants them, the first touch (the zeroing) placed at least the first page.
        #expect(kernelDeclines || kilobytes >= 2048, "transparent huge pages: \(mode)")

        let small = FloatBuffer(count: 1000, onHugePages: true)  // under 1 MB: an ordinary buffer
        #expect(UInt(bitPattern: small.pointer) % 64 == 0)
    }
}
