import Testing
import GPT
import Kernels
import Training

/// The model card's kernels row states what this process really runs.
@Suite struct ModelCardKernelsTests {
    @Test func namesTheFloat32FamilyAndTheSixteenBitKernel() {
        let family = KernelFamily.active, tile = family.gemmTile
        let float32 = "float32 GEMM \(family.rawValue), \(tile.rows)×\(tile.cols) tile"
        #expect(ModelCard.kernelSummary(.float32) == float32)
        #expect(ModelCard.kernelSummary(.bfloat16) == float32 + " · bfloat16 products " + GEMM16.kernel(for: .bfloat16).shortName)
        #expect(ModelCard.kernelSummary(.float16) == float32 + " · float16 products widened to float32")
    }
}
