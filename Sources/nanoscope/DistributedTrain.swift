import Foundation
import Kernels
import Training

/// `mpirun -np N nanoscope train --distributed …`: data-parallel training (see
/// `Training/Distributed/DataParallel.swift`). Rank 0 is the run everyone sees — the dashboard
/// (or the progress bar), `metrics.jsonl`, checkpoints; the other ranks train silently beside it.
enum Distributed {
    static let environment = ProcessInfo.processInfo.environment

    /// Ranks in the job when started by Open MPI's `mpirun` (nil otherwise).
    static var mpirunSize: Int? { environment["OMPI_COMM_WORLD_SIZE"].flatMap { Int($0) } }

    #if MPI
    nonisolated(unsafe) static var collective: MPICollective?
    #endif

    /// The data-parallel context, or a one-line error when `--distributed` cannot work here.
    static func setUp() -> DataParallel {
        #if MPI
        guard mpirunSize != nil else {
            fail("--distributed needs mpirun: mpirun -np 2 nanoscope train --distributed … (README: More than one machine)")
        }
        let c = MPICollective()
        collective = c
        return DataParallel(collective: c)
        #else
        fail("--distributed needs a build with MPI: swift build -c release --traits MPI (Open MPI: apt-get install openmpi-bin libopenmpi-dev)")
        #endif
    }

    static func finish() {
        #if MPI
        collective?.finalize()
        #endif
    }

    nonisolated(unsafe) static var termination: DispatchSourceSignal?

    /// `mpirun` ends a job whose rank died (or that got Ctrl-C) with SIGTERM to every rank, and
    /// SIGKILL a moment later: too soon to finish a step, so a rank says so in one line and exits
    /// at once. Checkpoints are written atomically, so the newest one on disk is whole.
    static func exitOnTermination(rank: Int, resume: String) {
        signal(SIGTERM, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler {
            FileHandle.standardError.write(Data("nanoscope rank \(rank): stopped by mpirun (SIGTERM: another rank ended or the job was cancelled); continue from the last checkpoint with: mpirun -np N nanoscope train --distributed --resume \(resume)\n".utf8))
            _exit(143)
        }
        source.resume()
        termination = source
    }

    /// Under `mpirun` a rank's stdin and stdout are pipes to `mpirun`; rank 0 takes the terminal
    /// `mpirun` runs in (its controlling terminal, `/dev/tty`) for the dashboard. `mpirun --stdin
    /// none` keeps `mpirun` from reading the keys first. Open MPI starts each rank in a process
    /// group of its own, which the terminal would stop (SIGTTIN/SIGTTOU) at its first read or
    /// redraw, so rank 0 makes its group the terminal's foreground until `releaseTerminal`.
    /// False when there is no terminal (CI, a detached job): rank 0 then trains headless.
    static func takeTerminal() -> Bool {
        let fd = open("/dev/tty", O_RDWR)
        guard fd >= 0 else { return false }
        guard isatty(fd) == 1 else { close(fd); return false }
        signal(SIGTTOU, SIG_IGN)
        foreground = tcgetpgrp(fd)
        tcsetpgrp(fd, getpgrp())
        dup2(fd, STDIN_FILENO)
        dup2(fd, STDOUT_FILENO)
        close(fd)
        return true
    }

    nonisolated(unsafe) static var foreground: pid_t = -1

    /// Gives the terminal back to the group that had it (`mpirun`'s), for the shell after the job.
    static func releaseTerminal() {
        if foreground > 0 { tcsetpgrp(STDIN_FILENO, foreground) }
    }
}

extension TrainCommand {
    /// The `--distributed` path of `run()`, and the error for `mpirun` without it.
    func runDistributed() throws {
        guard distributed else {
            fail("started by mpirun with \(Distributed.mpirunSize ?? 0) ranks but without --distributed: every rank would train the same run alone; add --distributed")
        }
        let parallel = Distributed.setUp()
        let root = parallel.rank == 0
        // Only rank 0 speaks: the others' errors are the same as rank 0's.
        func stop(_ message: String) -> Never {
            if root { fail(message) }
            Foundation.exit(1)
        }
        var makeRun: () throws -> TrainingRun
        if let resume {
            if options.config != nil { stop("give either a config file or --resume, not both") }
            let point: ResumePoint
            do { point = try ResumePoint.locate(resume) } catch { stop(error.description) }
            let (cfg, _) = try resolveOrFail(baseConfig: point.configPath)
            do { try parallel.validate(cfg) } catch { stop(error.description) }
            makeRun = { try RunSetup.resume(from: point, config: cfg, recording: root) }
            if root { printErr("resuming run from step \(point.checkpoint.step) (\(point.checkpoint.path)) on \(parallel.size) ranks") }
        } else {
            let (cfg, _) = try resolveOrFail()
            do { try parallel.validate(cfg) } catch { stop(error.description) }
            makeRun = { try RunSetup.start(cfg, report: { if root { printErr($0) } }, recording: root) }
        }
        // Rank 0 prepares first (the corpus may be fetched once, the run folder is written), then
        // the others build the same trainer from it.
        var run: TrainingRun?
        if root { do { run = try makeRun() } catch { stop("\(error)") } }
        parallel.collective.barrier()
        if !root { do { run = try makeRun() } catch { stop("\(error)") } }
        let training = run!
        training.trainer.dataParallel = parallel
        Distributed.exitOnTermination(rank: parallel.rank,
                                      resume: training.trainer.config.runsDir + "/" + training.name)
        if root {
            printErr("data-parallel on \(parallel.size) ranks (\(parallel.collective.label)): \(training.trainer.config.gradientAccumulationSteps / parallel.size) of \(training.trainer.config.gradientAccumulationSteps) micro-batches per step on each, \(WorkerPool.shared.workers) thread\(WorkerPool.shared.workers == 1 ? "" : "s") per rank")
            if let sharding = parallel.sharding {
                let whole = 2 * training.trainer.model.params.count * MemoryLayout<Float>.size
                printErr("ZeRO-1: AdamW moments sharded over the ranks, \(MemoryEstimate.format(bytes: sharding.momentBytes(of: 0))) of \(MemoryEstimate.format(bytes: whole)) on rank 0; reduce-scatter and all-gather instead of all-reduce")
            }
            if !headless && Distributed.takeTerminal() {
                runWithDashboard(training)
                Distributed.releaseTerminal()
            } else {
                try runHeadless(training)
            }
            if let summary = parallel.summary { printErr(summary) }
            // Each rank holds the same buffers, except under ZeRO-1 its shard of AdamW's moments.
            printErr(String(format: "peak resident memory of rank 0: %.1f MB", peakRSSMegabytes()))
        } else {
            signal(SIGINT, SIG_IGN)  // Ctrl-C reaches rank 0, which stops everyone at a step boundary
            do { try training.run(next: { .proceed }, emit: { _ in }) } catch { Foundation.exit(1) }
        }
        Distributed.finish()
    }
}
