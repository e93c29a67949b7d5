import Torch
let a = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
let b = try a.matmul(a) + 1
print(b, Runtime.threads)
do { _ = try a + Tensor.zeros([3]) } catch { print("caught:", error) }
let i = try Runtime.buildInfo()
print(i.version, i.cpuCapability, i.blas, i.usesOneDNN); print(i.configuration); print(i.parallelism)
