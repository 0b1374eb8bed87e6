import Kernels
import Foundation
func bench(_ m: Int, _ k: Int, _ n: Int, ta: Bool, parallel: Bool) {
    let a = UnsafeMutablePointer<Float>.allocate(capacity: m*k); let b = UnsafeMutablePointer<Float>.allocate(capacity: k*n); let c = UnsafeMutablePointer<Float>.allocate(capacity: m*n)
    for i in 0..<m*k { a[i] = Float(i % 7) * 0.1 }; for i in 0..<k*n { b[i] = Float(i % 5) * 0.1 }
    var best = 1e9
    for _ in 0..<50 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        if parallel { GEMM.multiply(m: m, n: n, k: k, a: a, aRowStride: ta ? 1 : k, aColStride: ta ? m : 1, b: b, ldb: n, c: c, ldc: n, accumulate: false) }
        else { GEMM.serial(m: m, n: n, k: k, a: a, aRowStride: ta ? 1 : k, aColStride: ta ? m : 1, b: b, ldb: n, c: c, ldc: n, accumulate: false) }
        let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        best = min(best, t)
    }
    print(m, k, n, ta ? "TN" : "NN", parallel ? "par" : "ser", String(format: "%.1f GFLOP/s  %.1f us", 2.0*Double(m*n*k)/best/1e9, best*1e6))
}
for (m,k,n) in [(768,128,384),(768,512,128),(768,128,512),(128,768,512),(1024,1024,1024),(16384,384,1152)] {
  bench(m,k,n,ta:false,parallel:false); bench(m,k,n,ta:false,parallel:true); bench(m,k,n,ta:true,parallel:true)
}
