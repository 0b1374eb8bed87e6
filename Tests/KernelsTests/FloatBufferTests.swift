import Foundation
import Kernels
import Testing

@Suite struct FloatBufferTests {
    /// The words after `name:` in the entry of /proc/self/smaps for the mapping that holds `address`.
    static func smapsField(_ name: String, at address: UInt) throws -> [Substring]? {
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
            } else if inside, fields.first == "\(name):" {
                return Array(fields.dropFirst())
            }
        }
        return nil
    }

    @Test func aBufferOnHugePagesMayTakeThem() throws {
        let floats = 3 << 18  // 3 MB: two 2 MB pages
        let buffer = FloatBuffer(count: floats, onHugePages: true)
        #expect(UInt(bitPattern: buffer.pointer) % (2 << 20) == 0)
        #expect((0..<floats).allSatisfy { buffer[$0] == 0 })
        let mode = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)) ?? ""
        // Whether a fault then gets a 2 MB page depends on the memory free at that moment, so the
        // test asks what `madvise` decides: the mapping may take huge pages. In the kernel's
        // "madvise" mode only an madvised mapping may; "always" grants every one, "never" none.
        let eligible = try #require(try Self.smapsField("THPeligible", at: UInt(bitPattern: buffer.pointer)))
        #expect(eligible == [mode.contains("[never]") ? "0" : "1"], "transparent huge pages: \(mode)")
        // Whether a plain mapping is eligible as well depends on the kernel's per-size settings
        // (a 64 kB size set to "always" makes every anonymous mapping eligible), so what tells
        // the two apart is the flag `madvise` sets on the mapping: "hg", VM_HUGEPAGE.
        let plain = FloatBuffer(count: floats)  // the same size, not asked for
        #expect(try Self.smapsField("VmFlags", at: UInt(bitPattern: buffer.pointer))?.contains("hg") == true)
        #expect(try Self.smapsField("VmFlags", at: UInt(bitPattern: plain.pointer))?.contains("hg") == false)

        let small = FloatBuffer(count: 1000, onHugePages: true)  // under 1 MB: an ordinary buffer
        #expect(UInt(bitPattern: small.pointer) % 64 == 0)
    }
}
