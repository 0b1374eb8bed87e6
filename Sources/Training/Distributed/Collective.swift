/// The collective operations data parallelism needs, over however many processes ("ranks") train
/// together. `Training` never links MPI: the command line implements this over Open MPI
/// (`Sources/nanoscope/DistributedMPI.swift`, built with the `MPI` package trait), and tests use
/// `SingleRank`.
///
/// Every rank calls the same operations in the same order (MPI's rule); each call returns only
/// when all ranks have made it. A failure (a peer died, the network broke) does not return: the
/// implementation reports it in one line and ends the process, since a rank cannot go on alone.
public protocol Collective: AnyObject {
    /// This process's index, `0..<size`; rank 0 keeps the files and owns the terminal.
    var rank: Int { get }
    var size: Int { get }
    /// Sums `buffer` over all ranks, in place; every rank receives the same bits.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>)
    /// Sums `buffer` over all ranks, in place.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>)
    /// Returns rank 0's `value` on every rank.
    func broadcast(_ value: Int) -> Int
    /// Returns once every rank has called it.
    func barrier()
    /// A short description for the cluster view ("Open MPI 4.1.4").
    var label: String { get }
    /// Sums `buffer` over all ranks; on return this rank's `shards[rank]` holds the sum and the
    /// rest is unspecified. The first half of an all-reduce (`MPI_Reduce_scatter`), for ZeRO-1.
    func reduceScatterSum(_ buffer: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>])
    /// Gives every rank each rank's `shards[rank]` of `buffer`, in place. The second half of an
    /// all-reduce (`MPI_Allgatherv`), for ZeRO-1.
    func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>])
}

/// Both halves over `allReduceSum`: exact (x + 0 = x), and enough for tests and one process;
/// MPI replaces them with the real collectives, which move half the bytes each.
extension Collective {
    public func reduceScatterSum(_ buffer: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) {
        allReduceSum(buffer)
    }

    public func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) {
        guard size > 1 else { return }
        let mine = shards[rank]
        for i in 0..<mine.lowerBound { buffer[i] = 0 }
        for i in mine.upperBound..<buffer.count { buffer[i] = 0 }
        allReduceSum(buffer)
    }
}

/// One process: every operation is the identity. Lets the data-parallel code run (and be tested)
/// without MPI.
public final class SingleRank: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {}
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {}
    public func broadcast(_ value: Int) -> Int { value }
    public func barrier() {}
    public var label: String { "one process" }
}
