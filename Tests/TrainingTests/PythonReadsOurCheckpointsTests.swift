import Foundation
import Testing
@testable import Training
import GPT
import SafeTensors
import TestSupport

/// Python's safetensors reading our files, via Scripts/check_safetensors.py.
@Suite struct PythonReadsOurFiles {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let script = packageRoot + "/Scripts/check_safetensors.py"

    /// Runs python3 with `arguments`; nil if python3 cannot be started.
    static func python(_ arguments: [String]) async -> (status: Int32, output: String)? {
        try? await runToCompletion(["python3"] + arguments)
    }

    static func available() async -> Bool { await python(["-c", "import numpy, safetensors.numpy"])?.status == 0 }

    @Test(.enabled("python3 with safetensors and numpy is not installed") { await available() })
    func pythonSafetensorsLoadsACheckpointWeWrote() async throws {
        let dir = TemporaryDirectory()
        let config = GPTConfig(vocabSize: 7, blockSize: 5, nLayer: 2, nHead: 2, nEmbd: 4, bias: true)
        let weights = modelWeights(config, includeLMHead: false)
        let path = dir.file("step-000003.safetensors")
        try SafeTensors.write(weights, metadata: metadata(step: 3, val: 1.25, config: config).dictionary, to: path)

        // Set NANOSCOPE_TORCH_REFERENCE to the folder of torch_gpt.py to also load the weights into
        // the PyTorch model (slow: imports torch).
        let reference = ProcessInfo.processInfo.environment["NANOSCOPE_TORCH_REFERENCE"].map { ["--torch-reference", $0] } ?? []
        let result = try #require(await Self.python([Self.script, path] + reference))
        #expect(result.status == 0, "\(result.output)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect((summary["problems"] as? [String]) == [])
        #expect((summary["metadata"] as? [String: String]) == metadata(step: 3, val: 1.25, config: config).dictionary)
        let tensors = try #require(summary["tensors"] as? [String: [String: Any]])
        #expect(Set(tensors.keys) == Set(weights.map(\.name)))
        for tensor in weights {
            #expect(tensors[tensor.name]?["shape"] as? [Int] == tensor.shape)
            #expect(tensors[tensor.name]?["values"] as? [Double] == tensor.values.prefix(8).map(Double.init))
            #expect(tensors[tensor.name]?["sum"] as? Double == tensor.values.reduce(0) { $0 + Double($1) })
        }
    }
}
