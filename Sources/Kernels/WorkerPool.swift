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
/// Work is cut into chunks that threads claim one at a time, so a helper that the OS has not
/// scheduled (a busy machine, the dashboard drawing) simply gets fewer chunks instead of making
/// the caller wait for its fixed share. Each thread claims from its own contiguous share first
/// (worker w of n: chunks w·c/n ..< (w+1)·c/n) and only then from what is left of the others':
/// consecutive jobs over the same rows (a LayerNorm, then the product that reads its output)
/// then find most of their rows in their own core's cache, instead of in the other core's,
/// where one shared counter scattered them. Results never depend on which thread ran which
/// chunk: chunks write disjoint outputs, and partial sums are kept per chunk and combined in
/// chunk order.
///
/// Team jobs (`team`) are the exception: every thread takes a fixed share and they meet at
/// barriers, for a chain of steps too small for a fork/join each (one token's pass through the
/// model during generation). A descheduled helper then stalls the team until it runs again.
///
/// Re-entrancy safe: when the pool is busy (another thread is using it, or a job calls it
/// again), the caller simply runs every chunk itself.
public final class WorkerPool: @unchecked Sendable {
    /// One pool for the process, with one worker per core (the caller counts as worker 0).
    public static let shared = WorkerPool(workers: usableCores)

    /// Cores this process may run on: its CPU affinity (`taskset`, `mpirun --bind-to core`),
    /// which `activeProcessorCount` ignores on Linux — a rank bound to one core would otherwise
    /// start a helper that spins on the same core as the thread it should help.
    public static var usableCores: Int {
        #if os(Linux)
        // The affinity mask, as /proc shows it ("Cpus_allowed:\t3" or "ff,ffffffff"): count its bits.
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) {
            let n = line.dropFirst("Cpus_allowed:".count).reduce(0) { $0 + (Int(String($1), radix: 16)?.nonzeroBitCount ?? 0) }
            if n > 0 { return min(n, ProcessInfo.processInfo.activeProcessorCount) }
        }
        #endif
        return ProcessInfo.processInfo.activeProcessorCount
    }

    /// Total number of workers, including the calling thread.
    public let workers: Int

    private let generation = Atomic<Int>(0)
    private let closedGeneration = Atomic<Int>(0)
    /// Per worker, how many chunks of its own share have been claimed (see `claim`), each
    /// counter on its own 128 bytes.
    private let claimed: UnsafeMutablePointer<Atomic<Int>>
    private let doneChunks = Atomic<Int>(0)
    private let activeHelpers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let condition = NSCondition()
    // Both guarded by `condition`.
    nonisolated(unsafe) private var sleepers = 0
    // Written by the caller before the generation bump, read by helpers after they observe it
    // and have registered as active (see `helperLoop`).
    nonisolated(unsafe) private var job: ((Int, Int) -> Void)?
    nonisolated(unsafe) private var chunkCount = 0
    // A team job (see `team`): every worker below `chunkCount` runs the chunk of its own index.
    nonisolated(unsafe) private var teamJob = false
    /// Each team member's count of `sync()` calls so far, one counter per member, each on its
    /// own 128 bytes (see `TeamMember.sync`). Plain memory rather than a class, so that members
    /// reach it without reference counting. Never freed: pools live as long as the process.
    private let teamArrivals: UnsafeMutablePointer<Atomic<Int>>

    /// How long an idle helper keeps spinning before it parks.
    private let spinNanoseconds: UInt64 = 300_000

    public init(workers: Int) {
        self.workers = max(1, workers)
        let slots = self.workers * TeamMember.slotStride
        teamArrivals = UnsafeMutableRawPointer.allocate(byteCount: slots * MemoryLayout<Atomic<Int>>.stride, alignment: 128)
            .bindMemory(to: Atomic<Int>.self, capacity: slots)
        for i in 0..<slots { (teamArrivals + i).initialize(to: Atomic(0)) }
        claimed = UnsafeMutableRawPointer.allocate(byteCount: slots * MemoryLayout<Atomic<Int>>.stride, alignment: 128)
            .bindMemory(to: Atomic<Int>.self, capacity: slots)
        for i in 0..<slots { (claimed + i).initialize(to: Atomic(0)) }
        for index in 1..<self.workers {
            // The helpers keep their pool alive: pools are made once and live as long as the
            // process (a helper that outlived its pool would read freed memory).
            let thread = Thread { self.helperLoop(index: index) }
            thread.name = "nanoscope-worker-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Calls `body(chunk, worker)` for every chunk in `0..<chunks`, spread over the pool, and
    /// returns when all have returned. `worker` (in `0..<workers`) identifies the thread running
    /// the chunk, for per-thread scratch space; no two chunks run at once with the same `worker`.
    public func parallelFor(_ chunks: Int, _ body: (_ chunk: Int, _ worker: Int) -> Void) {
        if chunks <= 0 { return }
        if workers == 1 || chunks == 1 || !busy.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged {
            for i in 0..<chunks { body(i, 0) }
            return
        }
        run(chunks: chunks, team: false, body)
    }

    /// Runs `body` once on each of the pool's threads *at the same time* — a team whose members
    /// can wait for each other with `TeamMember.sync()` — and returns when all have returned.
    ///
    /// For work that is a chain of small steps, each needing all of the previous one (a token's
    /// pass through the layers): one hand-off to the helpers and a ~0.1 µs barrier per step,
    /// instead of a fork/join per step. Each member should take a fixed share of every step
    /// (`TeamMember.share`), so results do not depend on the team's size. When the pool is busy
    /// (re-entrant use, another thread's job) the team is the caller alone.
    public func team(_ body: (inout TeamMember) -> Void) {
        if workers == 1 || !busy.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged {
            var alone = TeamMember(index: 0, size: 1, arrivals: nil)
            body(&alone)
            return
        }
        for i in 0..<workers { teamArrivals[i * TeamMember.slotStride].store(0, ordering: .sequentiallyConsistent) }
        let arrivals = UnsafePointer(teamArrivals)
        run(chunks: workers, team: true) { index, _ in
            var member = TeamMember(index: index, size: workers, arrivals: arrivals)
            body(&member)
        }
    }

    /// Publishes a job to the helpers, takes part in it, and waits until it is done and no
    /// helper holds it any more. The caller owns `busy` and releases it here.
    private func run(chunks: Int, team: Bool, _ body: (_ chunk: Int, _ worker: Int) -> Void) {
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            chunkCount = chunks
            teamJob = team
            for w in 0..<workers { claimed[w * TeamMember.slotStride].store(0, ordering: .sequentiallyConsistent) }
            doneChunks.store(0, ordering: .sequentiallyConsistent)
            let gen = generation.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
            condition.lock()
            if sleepers > 0 { condition.broadcast() }
            condition.unlock()
            if team {
                escaping(0, 0)
                doneChunks.wrappingAdd(1, ordering: .sequentiallyConsistent)
            } else {
                while let i = claim(worker: 0, of: chunks) {
                    escaping(i, 0)
                    doneChunks.wrappingAdd(1, ordering: .sequentiallyConsistent)
                }
            }
            Self.spin(until: { doneChunks.load(ordering: .sequentiallyConsistent) == chunks })
            // Close the job, then wait out any helper that registered before it saw the close.
            closedGeneration.store(gen, ordering: .sequentiallyConsistent)
            Self.spin(until: { activeHelpers.load(ordering: .sequentiallyConsistent) == 0 })
            job = nil
        }
        busy.store(false, ordering: .sequentiallyConsistent)
    }

    /// The next unclaimed chunk for `worker`: from its own share, in order, while any is left,
    /// then from the other workers' shares. Nil when every chunk is claimed. Each share's
    /// counter only grows, so every chunk is handed out exactly once.
    @inline(__always)
    private func claim(worker: Int, of chunks: Int) -> Int? {
        for step in 0..<workers {
            let owner = (worker + step) % workers
            let share = TeamMember.share(of: chunks, member: owner, teamSize: workers)
            let slot = owner * TeamMember.slotStride
            if claimed[slot].load(ordering: .relaxed) >= share.count { continue }
            let i = claimed[slot].wrappingAdd(1, ordering: .sequentiallyConsistent).oldValue
            if i < share.count { return share.lowerBound + i }
        }
        return nil
    }

    /// Splits `0..<count` into contiguous ranges (a few per worker) and runs `body` on each in
    /// parallel. Work smaller than `serialBelow` items runs on the caller only.
    public func parallelRanges(_ count: Int, serialBelow: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        if count < serialBelow || workers == 1 || count < 2 {
            body(0..<count)
            return
        }
        let chunks = min(count, workers * 4)
        parallelFor(chunks) { i, _ in
            let lo = count * i / chunks, hi = count * (i + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Busy-waits for `condition`, yielding the core after a while so that a thread we are
    /// waiting for can run on it when the machine is oversubscribed.
    @inline(__always)
    static func spin(until condition: () -> Bool) {
        var spins = 0
        while !condition() {
            spins += 1
            if spins > 2000 { sched_yield() }
        }
    }

    private func helperLoop(index: Int) {
        var seen = 0
        while true {
            var spinStart: UInt64 = 0
            var spins = 0
            while generation.load(ordering: .sequentiallyConsistent) == seen {
                spins += 1
                if spins & 255 != 0 { continue }
                sched_yield()
                let now = DispatchTime.now().uptimeNanoseconds
                if spinStart == 0 { spinStart = now; continue }
                if now - spinStart < spinNanoseconds { continue }
                condition.lock()
                while generation.load(ordering: .sequentiallyConsistent) == seen {
                    sleepers += 1
                    condition.wait()
                    sleepers -= 1
                }
                condition.unlock()
                spinStart = 0
            }
            seen = generation.load(ordering: .sequentiallyConsistent)
            // Register first, then check that the job is still open: the caller closes first,
            // then waits for registered helpers, so a job is never read after it was released.
            activeHelpers.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if closedGeneration.load(ordering: .sequentiallyConsistent) < seen, let job {
                let chunks = chunkCount
                // A team member runs its own index exactly once (the job waits for all of them).
                if teamJob {
                    // A team member runs the chunk of its own index (the job waits for all).
                    if index < chunks {
                        job(index, index)
                        doneChunks.wrappingAdd(1, ordering: .sequentiallyConsistent)
                    }
                } else {
                    while let i = claim(worker: index, of: chunks) {
                        job(i, index)
                        doneChunks.wrappingAdd(1, ordering: .sequentiallyConsistent)
                    }
                }
            }
            activeHelpers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        }
    }
}

/// One thread's place in a `WorkerPool.team` job.
public struct TeamMember {
    /// This member's number, `0..<size` (0 is the calling thread).
    public let index: Int
    /// How many threads are in the team.
    public let size: Int
    // A pointer, not a reference to an object: a reference would be retained and released on
    // every sync() — an atomic write from every core to the object's header, next to the
    // counters the others are spinning on.
    private let arrivals: UnsafePointer<Atomic<Int>>?
    private var passed = 0
    /// `Atomic<Int>`s from one member's counter to the next: 128 bytes, so that no two share a
    /// cache line or the pair of lines the adjacent-line prefetcher fetches together.
    static let slotStride = 16

    init(index: Int, size: Int, arrivals: UnsafePointer<Atomic<Int>>?) {
        self.index = index
        self.size = size
        self.arrivals = arrivals
    }

    /// Waits until every member has called `sync()` as many times as this one: everything the
    /// others wrote before it is visible after it.
    ///
    /// Each member publishes its count in its own slot and reads the others'. With one shared
    /// counter, every arrival was an atomic add on the same cache line — the line went from
    /// core to core once per member, one after another, and once more to each spinner; here
    /// the stores go out in parallel and each waiter pulls each other slot once. A generated
    /// token crosses 21 of these barriers.
    public mutating func sync() {
        guard let arrivals else { return }
        passed += 1
        arrivals[index * Self.slotStride].store(passed, ordering: .releasing)
        for other in 0..<size where other != index {
            let slot = arrivals + other * Self.slotStride
            WorkerPool.spin(until: { slot.pointee.load(ordering: .acquiring) >= passed })
        }
    }

    /// What one `sync()` costs when the members arrive together, in seconds: the best of
    /// `repeats` team jobs of `syncs` barriers and nothing else. It is the time for the
    /// arrivals' cache lines to travel between the cores, so it is the floor of any step a
    /// team splits into parts that must wait for each other (a cached generation step waits
    /// five times a layer).
    public static func barrierSeconds(pool: WorkerPool, syncs: Int = 2000, repeats: Int = 9) -> Double {
        if pool.workers == 1 { return 0 }
        var best = Double.infinity
        for _ in 0..<repeats {
            best = min(best, Stopwatch.seconds { pool.team { m in for _ in 0..<syncs { m.sync() } } } / Double(syncs))
        }
        return best
    }

    /// This member's contiguous share of `0..<count` (shares of all members tile it in order).
    public func share(of count: Int) -> Range<Int> {
        Self.share(of: count, member: index, teamSize: size)
    }

    /// Member `index`'s share of `0..<count` in a team of `size` (for laying data out by share
    /// before the team runs).
    public static func share(of count: Int, member index: Int, teamSize size: Int) -> Range<Int> {
        count * index / size ..< count * (index + 1) / size
    }
}

