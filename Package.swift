// swift-tools-version: 6.1
import Foundation
import PackageDescription

// libtorch: Debian's libtorch-dev by default; LIBTORCH=/path points at another distribution with
// include/ and lib/ (a newer CPU build, or a CUDA build).
let libtorch = ProcessInfo.processInfo.environment["LIBTORCH"]
let torchIncludes = libtorch.map { ["-I\($0)/include", "-I\($0)/include/torch/csrc/api/include"] }
  ?? ["-I/usr/include/torch/csrc/api/include"]
// Another libtorch's libraries are linked by path: the Swift driver puts the system library folder,
// where Debian's libtorch may also be, ahead of any -L.
// A CUDA build's libtorch_cuda is linked although no symbol of it is used: loading it registers
// the CUDA kernels and device hooks.
let torchLinking: [LinkerSetting] = libtorch.map { path in
  let cuda = FileManager.default.fileExists(atPath: "\(path)/lib/libtorch_cuda.so")
    ? ["-Xlinker", "--no-as-needed", "-Xlinker", "\(path)/lib/libtorch_cuda.so", "-Xlinker", "--as-needed"] : []
  return [.unsafeFlags(["torch", "torch_cpu", "c10"].flatMap { ["-Xlinker", "\(path)/lib/lib\($0).so"] } + cuda + ["-Xlinker", "-rpath", "-Xlinker", "\(path)/lib"])]
} ?? [.linkedLibrary("torch"), .linkedLibrary("torch_cpu"), .linkedLibrary("c10")]

// oneDNN's own headers (libdnnl-dev) for its Winograd convolution, on Debian's libtorch only: a
// PyTorch wheel carries another oneDNN inside its libtorch.
let oneDNN = libtorch == nil && FileManager.default.fileExists(atPath: "/usr/include/oneapi/dnnl/dnnl.hpp")

let package = Package(
  name: "FMBoost",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "fmboost", targets: ["fmboost"]),
    .library(
      name: "FMBoostKit",
      targets: ["Torch", "NN", "FileSupport", "Checkpoint", "Imaging", "FMBoost", "StableDiffusion", "Evaluation", "Training", "Pipelines", "Server"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    // The HTTP server (docs/server.md says why this one); its optional swift-configuration support is left out.
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
  ],
  targets: [
    .target(
      name: "CTorch",
      cxxSettings: [.headerSearchPath("compat"), .define("FMBOOST_ONEDNN", to: oneDNN ? "1" : "0"),
                    .unsafeFlags(torchIncludes + ["-O2", "-w"])],
      linkerSettings: torchLinking + (oneDNN ? [.linkedLibrary("dnnl")] : [])
    ),
    // libvips (libvips-dev): PNG, JPEG, WebP and TIFF with EXIF orientation, alpha, 16-bit samples,
    // ICC profiles and EXIF blocks, all in one well-kept library (docs/image-files.md).
    .systemLibrary(name: "CVips", pkgConfig: "vips"),
    .target(name: "CImaging", dependencies: ["CVips"]),
    // Linked into the executables only: it defines getenv (see spin_default.c).
    .target(name: "COpenMPDefaults"),
    .target(name: "Torch", dependencies: ["CTorch"]),
    .target(name: "NN", dependencies: ["Torch"]),
    // Atomic writes, gzip, the files found from the executable: no tensors.
    .target(name: "FileSupport", dependencies: ["ZIPFoundation"]),
    .target(name: "Checkpoint", dependencies: ["Torch", "FileSupport", "ZIPFoundation"]),
    .target(name: "Imaging", dependencies: ["Torch", "Checkpoint", "FileSupport", "CImaging"]),
    // The CFM model: its network, flow, solvers, first stages and the upsampler.
    .target(name: "FMBoost", dependencies: ["Torch", "NN", "Checkpoint", "Imaging"]),
    // Stable Diffusion 1.5 / LCM: CLIP text encoder, SD UNet, samplers, LoRA, loaders.
    .target(name: "StableDiffusion", dependencies: ["Torch", "NN", "Checkpoint", "FileSupport", "FMBoost"]),
    // Every image-quality measure: PSNR/SSIM (RGB and luma), the eval protocol's scores, FID/KID.
    .target(name: "Evaluation", dependencies: ["Torch", "Checkpoint", "FileSupport", "Imaging"]),
    .target(name: "Training", dependencies: ["FMBoost", "Imaging", "Evaluation", "FileSupport", .product(name: "Yams", package: "Yams")]),
    // The products as library calls: upsampling, text to image, evaluation (docs/architecture.md).
    .target(name: "Pipelines", dependencies: ["Torch", "Checkpoint", "FileSupport", "Imaging", "FMBoost", "StableDiffusion", "Evaluation"]),
    // `fmboost serve`: A1111's API, the job API and the page over the pipelines.
    .target(
      name: "Server",
      dependencies: [
        "Torch", "Imaging", "FMBoost", "StableDiffusion", "Pipelines",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
      ]),
    .executableTarget(
      name: "fmboost",
      dependencies: [
        "Torch", "NN", "FileSupport", "Checkpoint", "Imaging", "FMBoost", "StableDiffusion", "Evaluation", "Training", "Pipelines",
        "Server", "COpenMPDefaults",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .target(name: "Studies", dependencies: ["Training", "Pipelines", "FMBoost", "Evaluation", "FileSupport", "Torch"]),
    .executableTarget(name: "fmboost-ablations", dependencies: ["Studies", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    .executableTarget(name: "fmboost-bench", dependencies: ["Torch", "NN", "FileSupport", "Checkpoint", "FMBoost", "StableDiffusion", "COpenMPDefaults"]),
    .executableTarget(name: "fmboost-fuzz", dependencies: ["TestSupport"]),
    .target(
      name: "TestSupport", dependencies: ["Torch", "FileSupport", "Checkpoint", "ZIPFoundation"], path: "Tests/TestSupport"),
    .testTarget(name: "TorchTests", dependencies: ["Torch", "TestSupport"]),
    .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"]),
    .testTarget(name: "CheckpointTests", dependencies: ["FileSupport", "Checkpoint", "TestSupport", "ZIPFoundation"]),
    .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"]),
    .testTarget(name: "FMBoostTests", dependencies: ["FMBoost", "TestSupport"]),
    .testTarget(
      name: "StableDiffusionTests", dependencies: ["FileSupport", "FMBoost", "StableDiffusion", "TestSupport"],
      // The scripts that made three of Tests/Fixtures, beside the tests that read them.
      exclude: ["make_sd_sampler_fixture.py", "make_peft_lora_fixture.py", "make_clip_folder_fixture.py"]),
    .testTarget(name: "CLITests", dependencies: ["fmboost", "FMBoost", "StableDiffusion", "NN", "Training", "TestSupport"]),
    .testTarget(name: "PipelinesTests", dependencies: ["Pipelines", "FMBoost", "StableDiffusion", "Evaluation", "Imaging", "Torch", "TestSupport"]),
    .testTarget(name: "ServerTests", dependencies: ["Server", "Pipelines", "FMBoost", "Checkpoint", "Imaging", "Torch", "TestSupport"]),
    .testTarget(name: "TrainingTests", dependencies: ["Training", "TestSupport"]),
    .testTarget(name: "StudiesTests", dependencies: ["Studies", "TestSupport"]),
    .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Checkpoint", "Imaging", "TestSupport"]),
  ],
  // PyTorch 2.x headers need C++20; Debian's libtorch 1.13 is built as C++17.
  cxxLanguageStandard: libtorch == nil ? .cxx17 : .cxx20
)
