#if MPI
import CMPI
import Foundation
import Synchronization
import Training

/// `Collective` over Open MPI's `MPI_COMM_WORLD` (built with `--traits MPI`).
///
/// Errors return instead of aborting (`MPI_ERRORS_RETURN`): a failed call is reported in one line
/// and the process exits, so the other ranks' `mpirun` sees it and ends the job. A watchdog
/// thread covers what returns no error (a peer that died over shared memory leaves the others
/// spinning): a collective still waiting after `NANOSCOPE_MPI_TIMEOUT` seconds (default 600)
/// ends the process the same way. Open MPI itself normally ends the job within a second of a
/// rank's death (measured in the README's "More than one machine").
final class MPICollective: Collective {
    let rank: Int
    let size: Int
    let label: String
    private let comm = nanoscope_mpi_comm_world()
    /// Uptime (ns) when the current collective started; 0 when none is running.
    private let waitingSince = Atomic<UInt64>(0)
    private let timeout: Double

    /// `MPI_Init_thread`: the trainer thread makes the calls, not the main thread, and never two
    /// at once (`MPI_THREAD_SERIALIZED`).
    init() {
        var provided: Int32 = 0
        var argc: Int32 = 0
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        let rc = MPI_Init_thread(&argc, &argv, nanoscope_mpi_thread_serialized(), &provided)
        if rc != nanoscope_mpi_success() { Self.die(-1, "MPI_Init_thread failed (\(rc))") }
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(nanoscope_mpi_comm_world(), &r)
        MPI_Comm_size(nanoscope_mpi_comm_world(), &s)
        rank = Int(r); size = Int(s)
        MPI_Comm_set_errhandler(nanoscope_mpi_comm_world(), nanoscope_mpi_errors_return())
        var version = [CChar](repeating: 0, count: 8192)
        var length: Int32 = 0
        MPI_Get_library_version(&version, &length)
        let full = String(decoding: version.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        label = full.split(separator: ",").first.map(String.init) ?? "MPI"
        timeout = ProcessInfo.processInfo.environment["NANOSCOPE_MPI_TIMEOUT"].flatMap(Double.init) ?? 600
        startWatchdog()
    }

    func finalize() { MPI_Finalize() }

    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {
        guard size > 1 else { return }
        call("MPI_Allreduce") {
            MPI_Allreduce(nanoscope_mpi_in_place(), buffer.baseAddress, Int32(buffer.count), nanoscope_mpi_float(), nanoscope_mpi_sum(), comm)
        }
    }

    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {
        guard size > 1 else { return }
        call("MPI_Allreduce") {
            MPI_Allreduce(nanoscope_mpi_in_place(), buffer.baseAddress, Int32(buffer.count), nanoscope_mpi_double(), nanoscope_mpi_sum(), comm)
        }
    }

    func reduceScatterSum(_ buffer: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) {
        guard size > 1 else { return }
        let mine = shards[rank]
        var counts = shards.map { Int32($0.count) }
        let received = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, mine.count))
        defer { received.deallocate() }
        call("MPI_Reduce_scatter") {
            MPI_Reduce_scatter(buffer.baseAddress, received.baseAddress, &counts, nanoscope_mpi_float(), nanoscope_mpi_sum(), comm)
        }
        if !mine.isEmpty { (buffer.baseAddress! + mine.lowerBound).update(from: received.baseAddress!, count: mine.count) }
    }

    func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) {
        guard size > 1 else { return }
        var counts = shards.map { Int32($0.count) }, offsets = shards.map { Int32($0.lowerBound) }
        call("MPI_Allgatherv") {
            MPI_Allgatherv(nanoscope_mpi_in_place(), 0, nanoscope_mpi_datatype_null(), buffer.baseAddress, &counts, &offsets,
                           nanoscope_mpi_float(), comm)
        }
    }

    func broadcast(_ value: Int) -> Int {
        var v = Int32(value)
        call("MPI_Bcast") { MPI_Bcast(&v, 1, nanoscope_mpi_int(), 0, comm) }
        return Int(v)
    }

    func barrier() { call("MPI_Barrier") { MPI_Barrier(comm) } }

    private func call(_ name: String, _ body: () -> Int32) {
        waitingSince.store(DispatchTime.now().uptimeNanoseconds, ordering: .releasing)
        let rc = body()
        waitingSince.store(0, ordering: .releasing)
        if rc != nanoscope_mpi_success() {
            var text = [CChar](repeating: 0, count: Int(nanoscope_mpi_max_error_string()) + 1)
            var length: Int32 = 0
            MPI_Error_string(rc, &text, &length)
            let message = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            Self.die(rank, "\(name) failed (\(message)): another rank has stopped or the network failed")
        }
    }

    private func startWatchdog() {
        let limit = UInt64(timeout * 1e9)
        let rank = rank
        // The thread reads only the atomic; it lives as long as the process.
        nonisolated(unsafe) let me = self
        let thread = Thread {
            while true {
                Thread.sleep(forTimeInterval: 1)
                let since = me.waitingSince.load(ordering: .acquiring)
                if since != 0 && DispatchTime.now().uptimeNanoseconds - since > limit {
                    Self.die(rank, "no answer from the other ranks for \(Int(me.timeout)) s (NANOSCOPE_MPI_TIMEOUT): one has probably died")
                }
            }
        }
        thread.name = "nanoscope-mpi-watchdog"
        thread.start()
    }

    /// One line on stderr, then exit without MPI_Finalize (which would wait for the dead peer).
    static func die(_ rank: Int, _ message: String) -> Never {
        FileHandle.standardError.write(Data("nanoscope rank \(rank): \(message); the last checkpoint is intact — resume with `nanoscope train --resume RUN`\n".utf8))
        _exit(1)
    }
}
#endif
