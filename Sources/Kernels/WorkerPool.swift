import Foundation
import Synchronization

/// A persistent pool of worker threads that splits one piece of work over all cores.
///
/// Why not `DispatchQueue.concurrentPerform`: waking a parked worker costs ~50 µs on these
/// machines, while the baby model's matmuls take a few hundred µs each, so per-call dispatch
/// would eat most of the gain. Here each helper spins on an atomic generation counter for a
/// short while after finishing a job (the next job is usually microseconds away inside a
/// training step), and only parks on a condition variable when work stops coming.
///
/// `run` is re-entrancy safe: when the pool is busy (another thread is using it, or a job calls
/// `run` again), the caller simply does all the work itself.
public final class WorkerPool: @unchecked Sendable {
    /// One pool for the process, with one worker per core (the caller counts as worker 0).
    public static let shared = WorkerPool(workers: ProcessInfo.processInfo.activeProcessorCount)

    /// Total number of workers, including the calling thread.
    public let workers: Int

    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let condition = NSCondition()
    // Both guarded by `condition`.
    nonisolated(unsafe) private var sleepers = 0
    nonisolated(unsafe) private var shuttingDown = false
    // Written by the caller before the generation bump (release), read by helpers after they
    // observe it (acquire).
    nonisolated(unsafe) private var job: ((Int) -> Void)?

    /// How long an idle helper keeps spinning before it parks.
    private let spinNanoseconds: UInt64 = 300_000

    public init(workers: Int) {
        self.workers = max(1, workers)
        for index in 1..<self.workers {
            let thread = Thread { [unowned self] in self.helperLoop(index: index) }
            thread.name = "nanoscope-worker-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Calls `body(w)` once for every worker index `w` in `0..<workers`, in parallel, and returns
    /// when all calls have returned. The calling thread runs `body(0)`.
    public func run(_ body: (Int) -> Void) {
        if workers == 1 || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for w in 0..<workers { body(w) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            pending.store(workers - 1, ordering: .relaxed)
            generation.wrappingAdd(1, ordering: .releasing)
            condition.lock()
            if sleepers > 0 { condition.broadcast() }
            condition.unlock()
            escaping(0)
            while pending.load(ordering: .acquiring) != 0 {}
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Splits `0..<count` into one contiguous range per worker (ranges may be empty) and runs
    /// `body` on each in parallel. Work smaller than `serialBelow` items runs on the caller only.
    public func parallelRanges(_ count: Int, serialBelow: Int = 1, _ body: (Range<Int>) -> Void) {
        if count < serialBelow || workers == 1 || count < 2 {
            if count > 0 { body(0..<count) }
            return
        }
        let parts = workers
        run { w in
            let lo = count * w / parts, hi = count * (w + 1) / parts
            if lo < hi { body(lo..<hi) }
        }
    }

    private func helperLoop(index: Int) {
        var seen = 0
        while true {
            var spinStart: UInt64 = 0
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins & 255 != 0 { continue }
                let now = DispatchTime.now().uptimeNanoseconds
                if spinStart == 0 { spinStart = now; continue }
                if now - spinStart < spinNanoseconds { continue }
                condition.lock()
                while generation.load(ordering: .acquiring) == seen && !shuttingDown {
                    sleepers += 1
                    condition.wait()
                    sleepers -= 1
                }
                let stop = shuttingDown
                condition.unlock()
                if stop { return }
                spinStart = 0
            }
            seen = generation.load(ordering: .acquiring)
            job?(index)
            pending.subtract(1, ordering: .releasing)
        }
    }
}
