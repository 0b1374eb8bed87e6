import Foundation
import Testing
@testable import Training

/// The scaler's sequence of scales and skips equals `torch.amp.GradScaler`'s on schedules of
/// forced overflows (`Scripts/make_loss_scaler_fixture.py`).
@Suite struct LossScalerTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            struct Kwargs: Decodable { let init_scale: Float?, growth_factor: Float?, backoff_factor: Float?, growth_interval: Int? }
            struct Step: Decodable { let scale_used: Float, skipped: Bool, scale_after: Float }
            let name: String, kwargs: Kwargs, steps: Int, overflow: [Int], nan: [Int], trace: [Step]
        }
        let torch_version: String
        let cases: [Case]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/loss_scaler.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    @Test(arguments: fixture.cases.map(\.name))
    func scalesAndSkipsMatchGradScaler(_ name: String) throws {
        let c = try #require(Self.fixture.cases.first { $0.name == name })
        var scaler = LossScaler(scale: c.kwargs.init_scale ?? 65536, growthFactor: c.kwargs.growth_factor ?? 2,
                                backoffFactor: c.kwargs.backoff_factor ?? 0.5, growthInterval: c.kwargs.growth_interval ?? 2000)
        for (step, expected) in c.trace.enumerated() {
            #expect(scaler.scale == expected.scale_used, "\(name) step \(step): scale \(scaler.scale), GradScaler \(expected.scale_used)")
            let applied = scaler.update(gradientsAreFinite: !c.overflow.contains(step) && !c.nan.contains(step))
            #expect(applied == !expected.skipped, "\(name) step \(step)")
            #expect(scaler.scale == expected.scale_after, "\(name) step \(step) after update")
        }
        #expect(scaler.skippedSteps == c.trace.filter(\.skipped).count)
    }

    @Test func theDefaultGrowsOnlyAfter2000FiniteSteps() {
        var scaler = LossScaler()
        for _ in 0..<1999 { scaler.update(gradientsAreFinite: true) }
        #expect(scaler.scale == 65536)
        scaler.update(gradientsAreFinite: true)
        #expect(scaler.scale == 131072 && scaler.finiteStreak == 0)
    }
}
