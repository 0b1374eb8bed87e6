import Foundation
import Testing
import Kernels

/// Rounding to bfloat16 and float16 must give PyTorch's bits exactly, on the edge cases of
/// `Scripts/make_precision_fixtures.py` (ties, subnormals, largest finite, overflow, NaN).
@Suite struct HalfPrecisionTests {
    struct Fixture: Decodable {
        let float32: [UInt32]
        let bfloat16: [UInt16], bfloat16_vectorised: [UInt16], bfloat16_widened: [UInt32]
        let float16: [UInt16], float16_vectorised: [UInt16], float16_widened: [UInt32]
        let torch_version: String

        static func load() throws -> Fixture {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/precision.json")
            return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        }
    }

    static func hex<T: BinaryInteger>(_ x: T) -> String { "0x" + String(x, radix: 16) }

    @Test func bfloat16RoundingIsPyTorchsBitForBit() throws {
        let f = try Fixture.load()
        #expect(f.float32.count > 150)
        for (i, bits) in f.float32.enumerated() {
            let got = HalfPrecision.bfloat16Bits(Float(bitPattern: bits))
            #expect(got == f.bfloat16[i], "\(Self.hex(bits)) → \(Self.hex(got)), PyTorch \(Self.hex(f.bfloat16[i])) (torch \(f.torch_version))")
            #expect(f.bfloat16_vectorised[i] == f.bfloat16[i], "PyTorch's own vector path differs at \(Self.hex(bits))")
            #expect(HalfPrecision.float(bfloat16: f.bfloat16[i]).bitPattern == f.bfloat16_widened[i])
        }
    }

    @Test func float16RoundingIsPyTorchsBitForBit() throws {
        let f = try Fixture.load()
        for (i, bits) in f.float32.enumerated() {
            let got = HalfPrecision.float16Bits(Float(bitPattern: bits))
            #expect(got == f.float16[i], "\(Self.hex(bits)) → \(Self.hex(got)), PyTorch \(Self.hex(f.float16[i])) (torch \(f.torch_version))")
            let widened = HalfPrecision.float(float16: f.float16[i])
            if Float(bitPattern: f.float16_widened[i]).isNaN {
                // PyTorch widens a negative float16 NaN to the positive 0x7FFFFFFF: a NaN either
                // way, and nothing in training reads a NaN's sign or payload.
                #expect(widened.isNaN)
            } else {
                #expect(widened.bitPattern == f.float16_widened[i], "widening \(Self.hex(f.float16[i]))")
            }
        }
    }

    /// Every float16 pattern widens and narrows back to itself (NaNs stay NaN), and agrees with
    /// Swift's own `Float16` conversion, an independent implementation.
    @Test func float16RoundTripsEveryPatternAndAgreesWithSwiftsFloat16() {
        for bits in UInt16.min...UInt16.max {
            let wide = HalfPrecision.float(float16: bits)
            let back = HalfPrecision.float16Bits(wide)
            if wide.isNaN { #expect(back & 0x7C00 == 0x7C00 && back & 0x03FF != 0); continue }
            #expect(back == bits, "\(Self.hex(bits))")
            #expect(wide == Float(Float16(bitPattern: bits)))
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<100_000 {
            let x = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))
            guard !x.isNaN else { continue }
            #expect(HalfPrecision.float16Bits(x) == Float16(x).bitPattern, "\(Self.hex(x.bitPattern))")
        }
    }
}
