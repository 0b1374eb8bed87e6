import Kernels
import Testing

/// The rooflines `sample --bench` prints: a read bandwidth for a working set and a barrier's cost.
@Suite struct ReadBandwidthTests {
    @Test func aWorkingSetIsReadInWholeStepsOnEveryThread() {
        let pool = WorkerPool(workers: 2)
        let r = ReadBandwidth.measure(bytes: 100_000, pool: pool, repeats: 2)
        #expect(r.bytes == 100_096)  // 25 000 floats rounded up to whole 256-byte steps
        #expect(r.threads == 2)
        // Any real machine reads a 100 KB cached working set at between 1 GB/s and 10 TB/s.
        #expect(r.oneThread > 1 && r.oneThread < 10_000, "\(r)")
        #expect(r.allThreads > 1 && r.allThreads < 10_000, "\(r)")
    }

    @Test func aBarrierCostsTimeOnlyWithATeam() {
        #expect(TeamMember.barrierSeconds(pool: .serialPool) == 0)
        let seconds = TeamMember.barrierSeconds(pool: WorkerPool(workers: 2), syncs: 200, repeats: 2)
        #expect(seconds > 0 && seconds < 1e-3, "\(seconds)")
    }
}
