import CTorch

/// The devices this build and machine offer, and the choice of one by name.
public enum Devices {
  /// Whether this binary runs on a libtorch with CUDA (libtorch_cuda loaded).
  public static var cudaBuilt: Bool { Runtime.ensureConfigured(); return ct_cuda_built() }
  /// CUDA devices the driver reports (0 without a driver or a GPU).
  public static var cudaCount: Int { Runtime.ensureConfigured(); return Int(ct_cuda_device_count()) }
  public static var mpsAvailable: Bool { Runtime.ensureConfigured(); return ct_mps_available() }

  /// Every device a pipeline can run on here, the CPU first.
  public static var available: [Device] {
    [.cpu] + (0..<cudaCount).map(Device.cuda) + (mpsAvailable ? [.mps] : [])
  }

  /// `cpu`, `cuda` (device 0), `cuda:N`, `mps`, `meta` (shapes only) or `auto` (the first GPU,
  /// else the CPU), checked against what this build and machine offer.
  public static func resolve(_ name: String) throws -> Device {
    let device: Device
    switch name.lowercased() {
    case "auto": return available.first { $0 != .cpu } ?? .cpu
    case "cpu": device = .cpu
    case "meta": device = .meta
    case "mps": device = .mps
    case "cuda": device = .cuda(0)
    case let other where other.hasPrefix("cuda:"):
      guard let index = Int(other.dropFirst(5)), index >= 0 else { throw DeviceError.unknown(name) }
      device = .cuda(index)
    default: throw DeviceError.unknown(name)
    }
    try check(device)
    return device
  }

  /// Fails with the reason when `device` cannot be used here.
  public static func check(_ device: Device) throws {
    switch device {
    case .cpu, .meta: return
    case .mps:
      if !mpsAvailable { throw DeviceError.unavailable(device, reason: "MPS (Apple GPUs) is not available in this build or on this machine") }
    case .cuda(let index):
      if !cudaBuilt {
        throw DeviceError.unavailable(device, reason: "this binary runs on a libtorch without CUDA (\(try Runtime.buildInfo().version), CPU only); build it against a CUDA libtorch (docs/devices.md)")
      }
      let count = cudaCount
      if index >= count {
        throw DeviceError.unavailable(device, reason: count == 0 ? "no CUDA device found (no GPU, or no working NVIDIA driver)" : "only \(count) CUDA device(s) here (cuda:0…cuda:\(count - 1))")
      }
    }
  }
}

public enum DeviceError: Error, CustomStringConvertible, Equatable {
  case unknown(String)
  case unavailable(Device, reason: String)

  public var description: String {
    switch self {
    case .unknown(let name): return "unknown device '\(name)': use cpu, cuda, cuda:N, mps, meta or auto"
    case .unavailable(let device, let reason): return "device \(device) is not available: \(reason)"
    }
  }
}
