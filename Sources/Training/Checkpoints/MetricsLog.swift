import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SafeTensors

/// One line of `metrics.jsonl`.
///
/// Written as one JSON object per line, keys in this order:
///
///     {"step":500,"train_loss":1.9234,"val_loss":2.0112,"lr":0.00094,"grad_norm":0.41,"tokens_per_s":24100,"time":61.3}
///
/// Values not measured at this step (val loss between evals), and NaN or infinite values (a
/// diverged run), are `null`. Runs on a synthetic task add `"task_accuracy"` (a fraction) after
/// `val_loss` at evaluations; other lines leave the key out.
public struct MetricsRecord: Sendable, Equatable {
    public var step: Int
    public var trainLoss: Float?
    public var valLoss: Float?
    public var lr: Float?
    public var gradNorm: Float?
    public var tokensPerSecond: Double?
    /// Exact-match accuracy on held-out problems of a synthetic task, at evaluations.
    public var taskAccuracy: Float?
    /// Seconds of training since the run started (pauses excluded).
    public var time: Double
    /// `dtype` of the run; float16 with loss scaling adds the scale for the next step and the
    /// steps skipped so far for an overflow. Written after `tokens_per_s` when present.
    public var dtype: String? = nil
    public var lossScale: Float? = nil
    public var skippedSteps: Int? = nil

    public init(step: Int, trainLoss: Float? = nil, valLoss: Float? = nil, lr: Float? = nil,
                gradNorm: Float? = nil, tokensPerSecond: Double? = nil, taskAccuracy: Float? = nil, time: Double) {
        self.step = step
        self.trainLoss = trainLoss
        self.valLoss = valLoss
        self.lr = lr
        self.gradNorm = gradNorm
        self.tokensPerSecond = tokensPerSecond
        self.taskAccuracy = taskAccuracy
        self.time = time
    }

    /// The JSON line, without the newline.
    public var jsonLine: String {
        func number(_ value: Float?) -> StrictJSON { value.map(StrictJSON.number) ?? .null }
        var members: [(key: String, value: StrictJSON)] = [
            ("step", .number(step)),
            ("train_loss", number(trainLoss)),
            ("val_loss", number(valLoss)),
        ]
        if let taskAccuracy { members.append(("task_accuracy", number(taskAccuracy))) }
        return StrictJSON.object(members + [
            ("lr", number(lr)),
            ("grad_norm", number(gradNorm)),
            ("tokens_per_s", tokensPerSecond.map(StrictJSON.number) ?? .null),
        ] + precisionMembers + [
            ("time", StrictJSON.number(time)),
        ]).serialized
    }

    private var precisionMembers: [(key: String, value: StrictJSON)] {
        var m: [(key: String, value: StrictJSON)] = []
        if let dtype { m.append(("dtype", .string(dtype))) }
        if let lossScale { m.append(("loss_scale", .number(lossScale))) }
        if let skippedSteps { m.append(("skipped_steps", .number(skippedSteps))) }
        return m
    }

    /// Parses one line; nil if it is not a metrics object (e.g. a line torn by a crash).
    public init?(jsonLine line: some StringProtocol) {
        guard case .object(let members)? = try? StrictJSON.parse(Array(line.utf8)) else { return nil }
        let fields = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        func double(_ key: String) -> Double? {
            guard case .number(let text)? = fields[key] else { return nil }
            return Double(text)
        }
        guard let step = double("step").flatMap({ Int(exactly: $0) }), let time = double("time") else { return nil }
        self.init(step: step, trainLoss: double("train_loss").map(Float.init), valLoss: double("val_loss").map(Float.init),
                  lr: double("lr").map(Float.init), gradNorm: double("grad_norm").map(Float.init),
                  tokensPerSecond: double("tokens_per_s"), taskAccuracy: double("task_accuracy").map(Float.init), time: time)
        if case .string(let d)? = fields["dtype"] { dtype = d }
        lossScale = double("loss_scale").map(Float.init)
        skippedSteps = double("skipped_steps").flatMap { Int(exactly: $0) }
    }
}

/// Appending to and reading `metrics.jsonl`.
///
/// Appends are not fsynced (a lost last line costs nothing), but a line torn by a crash must not
/// corrupt the next one: an append first ends any unterminated last line.
public enum MetricsLog {
    public static func append(_ record: MetricsRecord, to path: String) throws(CheckpointError) {
        try append([record], to: path)
    }

    /// Appends records with a single `write`, so concurrent readers see whole lines.
    public static func append(_ records: [MetricsRecord], to path: String) throws(CheckpointError) {
        // Read access too, to look at the last byte.
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError.system(path, "cannot open the metrics log", errno: errno) }
        defer { close(fd) }
        var text = records.map { $0.jsonLine + "\n" }.joined()
        if endsWithoutNewline(fd) { text = "\n" + text }
        // Whole lines only: a write cut short (full disk, file size limit) is taken back, so the
        // log never ends in half a line.
        var info = stat()
        let sizeBefore = fstat(fd, &info) == 0 ? info.st_size : -1
        var sink = FileSink(fd: fd, path: path)
        do throws(CheckpointError) {
            try sink.write(Array(text.utf8))
            try sink.flush()
        } catch {
            if sizeBefore >= 0 { _ = ftruncate(fd, sizeBefore) }
            throw error
        }
    }

    private static func endsWithoutNewline(_ fd: Int32) -> Bool {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return false }
        var last: UInt8 = 0
        return pread(fd, &last, 1, info.st_size - 1) == 1 && last != UInt8(ascii: "\n")
    }

    /// Every well-formed record in the file, in file order; malformed lines are skipped.
    /// A missing file is an empty log.
    public static func read(_ path: String) throws(CheckpointError) -> [MetricsRecord] {
        guard FileSystem.exists(path) else { return [] }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CheckpointError(path, "cannot read the metrics log: \(error.localizedDescription)")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap(MetricsRecord.init(jsonLine:))
    }

    /// Drops records after `step` (atomically), for resuming from an earlier checkpoint: the
    /// steps after it are about to be trained again. Malformed lines are dropped too.
    public static func truncate(_ path: String, after step: Int) throws(CheckpointError) {
        guard FileSystem.exists(path) else { return }
        let kept = try read(path).filter { $0.step <= step }
        try AtomicFile.write(text: kept.map { $0.jsonLine + "\n" }.joined(), to: path)
    }
}
