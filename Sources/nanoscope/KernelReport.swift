import Foundation
import Kernels

/// What every `bench` figure is stated against: the ISA, the kernel family in use, and this
/// core's FP32 FMA peak measured in the same run (`FMAPeak`, independent chains on the widest
/// vector unit this CPU and build can run).
struct KernelReport {
    let peak: FMAPeak.Result

    /// Measures the peak now (about a quarter of a second).
    static func measure() -> KernelReport { KernelReport(peak: FMAPeak.measure()) }

    /// "CPU …: AVX2+FMA, AVX-512F; build: …; kernel avx512 (GEMM tile 12×32 …)".
    static var isaLine: String { CPUFeatures.report }

    /// Environment settings that hold PyTorch to the vector unit of `family`, so that a kernel
    /// forced below this CPU's widest (`--kernel avx2` on an AVX-512 machine, standing in for an
    /// AVX2 one) is compared with a reference that stands in for the same machine: ATen's own
    /// kernels, MKL's GEMM and oneDNN each dispatch on their own switch. Empty when the family is
    /// the widest this *CPU* has: a build for a narrower CPU (`NANOSCOPE_TARGET_CPU=znver3` on an
    /// AVX-512 machine) holds PyTorch back too, or the comparison would be AVX2 against AVX-512.
    static func referenceConfinement(_ family: KernelFamily) -> [String] {
        let cpu = CPUFeatures.cpu
        switch family {
        case .avx512: return []
        case .avx2:
            return cpu.avx512f ? ["ATEN_CPU_CAPABILITY=avx2", "MKL_ENABLE_INSTRUCTIONS=AVX2", "ONEDNN_MAX_CPU_ISA=AVX2"] : []
        case .generic:
            return cpu.avx512f || cpu.avx2fma
                ? ["ATEN_CPU_CAPABILITY=default", "MKL_ENABLE_INSTRUCTIONS=SSE4_2", "ONEDNN_MAX_CPU_ISA=SSE41"] : []
        }
    }

    /// The ISA line, and with a PyTorch reference held to a narrower unit, the settings that hold it.
    static func header(withReference: Bool) -> String {
        let confine = referenceConfinement(.active)
        guard withReference, !confine.isEmpty else { return isaLine }
        return isaLine + "\nPyTorch held to the same vector unit: " + confine.joined(separator: " ")
    }

    /// The all-core peak figures are compared with: the measured one, unless other processes
    /// kept a core from the measurement (then threads × one core: a busy machine must not make
    /// the fractions look better).
    var allCoresPeak: Double { busy ? Double(peak.threads) * peak.oneCore : peak.allCores }

    var busy: Bool { peak.allCores < Double(peak.threads) * peak.oneCore * 0.9 }

    var peakLine: String {
        "FMA peak measured now (\(peak.family.lanes)-wide \(peak.family.isaName) chains): "
            + String(format: "%.1f GFLOP/s one core, %.1f GFLOP/s all %d cores", peak.oneCore, peak.allCores, peak.threads)
            + (busy ? String(format: " — the machine is busy; all-core fractions use %d × one core = %.1f", peak.threads, allCoresPeak) : "")
    }

    /// e.g. "83% of one core's peak".
    func ofOneCore(_ gflops: Double) -> String { String(format: "%3.0f%% of one core's peak", 100 * gflops / peak.oneCore) }
    func ofAllCores(_ gflops: Double) -> String { String(format: "%3.0f%% of the all-core peak", 100 * gflops / allCoresPeak) }
}
