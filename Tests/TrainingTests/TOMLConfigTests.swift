import Foundation
import Testing
@testable import Training
import GPT
import TestSupport

/// Config files through TOMLKit and the key table: TOML's own syntax is read as TOML reads it
/// (the hand-written reader cut `'a#b'` at the `#`, kept `\u00e9` and `"""` unread, and took any
/// `[section]` silently), and every mistake is one line naming the file, the line and the fix.
@Suite struct TOMLConfigTests {
    let dir = TemporaryDirectory()

    func load(_ text: String) throws(ConfigError) -> TrainConfig {
        let path = dir.file("c.toml")
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return try TrainConfig.load(path: path)
    }

    func error(_ text: String) -> String {
        do { _ = try load(text); return "accepted" } catch { return error.message }
    }

    @Test func stringsKeepHashesEscapesAndLiterals() throws {
        #expect(try load("run_name = 'a#b' # a comment").runName == "a#b")
        #expect(try load("run_name = \"a#b\"  # a comment").runName == "a#b")
        #expect(try load(#"run_name = "tab\there \"q\" caf\u00e9""#).runName == "tab\there \"q\" café")
        #expect(try load(#"data = 'C:\corpora\plays.txt'"#).data == #"C:\corpora\plays.txt"#)
        #expect(try load("run_name = \"\"\"\nline one\nline two\"\"\"").runName == "line one\nline two")
    }

    @Test func numbersAndBooleansAsTOMLWritesThem() throws {
        let c = try load("""
            max_iters = 10_000
            learning_rate = 6e-4
            min_lr = 6E-5
            beta2 = +0.95
            dropout = 0   # an integer where a float is expected is fine
            bias = true
            decay_lr = false
            seed = 0x10
            """)
        #expect(c.maxIters == 10_000)
        #expect(c.learningRate == 6e-4)
        #expect(c.minLR == 6e-5)
        #expect(c.beta2 == 0.95)
        #expect(c.dropout == 0)
        #expect(c.bias && !c.decayLR)
        #expect(c.seed == 16)
    }

    @Test func mistakesNameTheFileTheLineTheKeyAndTheFix() {
        let path = dir.file("c.toml")
        let cases: [(text: String, expected: String)] = [
            ("n_layer = 2\n\nlearning_rat = 0.1", "\(path):3: unknown config key learning_rat (did you mean learning_rate?)"),
            ("# comment\nn_layer = 2\nn_layer = 3", "\(path):3: n_layer is already set on line 2: remove one of the two"),
            ("n_layer = 2\nmax_iters = \"ten\"", "\(path):2: max_iters must be a whole number, not \"ten\""),
            ("bias = 1", "\(path):1: bias must be true or false, not 1"),
            ("run_name = 7", "\(path):1: run_name must be a quoted string, not 7"),
            ("\n\ndata = [1, 2]", "\(path):3: data is an array: config values are one quoted string, number or true/false"),
            ("seed = 1979-05-27", "\(path):1: seed is a date"),
            ("n_layer = 4\n[model]\nn_head = 4", "\(path):2: [model] is a table, which a config does not use"),
            ("optim = { beta1 = 0.9 }", "\(path):1: optim is a table (a dotted key or { … })"),
            ("n_layer = 4\noptim.beta1 = 0.9", "\(path):2: optim is a table (a dotted key or { … })"),
            ("n_layer 4", "\(path):1: not valid TOML: "),
            ("n_layer = 4\nrun_name = \"unterminated", "\(path):2: run_name: not valid TOML: "),
        ]
        for (text, expected) in cases {
            let message = error(text)
            #expect(message.hasPrefix(expected) || message.contains(expected), "\(text.debugDescription) → \(message)")
            #expect(!message.contains("\n"), "one line: \(message)")
        }
    }

    /// `activation_checkpointing` is a switch (true, false) with a third setting, "selective";
    /// each reads back as written, and anything else is refused with the three choices.
    @Test func activationCheckpointingTakesTrueFalseOrSelective() throws {
        #expect(try load("activation_checkpointing = true").memoryOptions.checkpointing == .full)
        #expect(try load("activation_checkpointing = false").memoryOptions.checkpointing == .off)
        let selective = try load("attention = \"fused\"\nactivation_checkpointing = \"selective\"")
        #expect(selective.memoryOptions == MemoryOptions(attention: .fused, checkpointing: .selective))
        #expect(selective.value(of: "activation_checkpointing") == .string("selective"))
        #expect(try load(selective.tomlText) == selective)
        #expect(error("activation_checkpointing = \"some\"")
            == "\(dir.file("c.toml")):1: activation_checkpointing must be true, false or \"selective\", not \"some\"")
    }

    /// The first mistake in the file is the one reported, whatever order the library keeps keys in.
    @Test func theFirstMistakeInTheFileIsReported() {
        #expect(error("zzz_unknown = 1\naaa_unknown = 2").contains("c.toml:1: unknown config key zzz_unknown"))
    }

    @Test func commandLineValuesReadAsTOML() {
        #expect(TOML.value(literal: "1_000") == .integer(1000))
        #expect(TOML.value(literal: "6e-4") == .float(6e-4))
        #expect(TOML.value(literal: "true") == .bool(true))
        #expect(TOML.value(literal: "'a#b'") == .string("a#b"))
        // Bare words, and text that would smuggle in a second key, are not TOML values: the
        // command line takes them as strings.
        #expect(TOML.value(literal: "runs/a#b") == nil)
        #expect(TOML.value(literal: "1\nseed = 2") == nil)
        #expect(TOML.value(literal: "1 # x") == .integer(1))
    }

    @Test func writtenConfigsReadBackEvenWithOddStrings() throws {
        var cfg = TrainConfig()
        cfg.runName = "a#b \"quoted\" back\\slash\nnew line\u{01}"
        cfg.data = "/x/y.txt"
        cfg.learningRate = 6e-4
        #expect(try load(cfg.tomlText) == cfg)
    }
}
