import ArgumentParser
import FMBoost

/// `--vae a[,b]`: one autoencoder file, or a TAESD-family encoder,decoder pair.
func vaePaths(_ value: String) -> [String] { value.split(separator: ",").map(String.init) }

/// `--tile PX` of a command that runs an autoencoder alone, as latent positions of its factor.
func latentTile(pixels: Int?, factor: Int) throws -> Int? {
  guard let pixels else { return nil }
  guard pixels > 0, pixels % factor == 0, pixels / factor >= Tiling.minimumTile else {
    throw CommandError("--tile \(pixels): must be a multiple of the first stage's \(factor) pixels per latent position and at least \(Tiling.minimumTile * factor) pixels")
  }
  return pixels / factor
}

/// A command's discussion as paragraphs for ArgumentParser, which keeps every line break it is
/// given and wraps to the terminal itself: the lines of a paragraph are joined, blank lines and
/// lines starting a list item ("- ") or indented (examples) stay where they are.
func paragraphs(_ text: String) -> String {
  text.components(separatedBy: "\n\n").map { paragraph in
    paragraph.split(separator: "\n").enumerated().map { index, line in
      index == 0 ? String(line) : (line.hasPrefix("- ") || line.hasPrefix(" ") ? "\n" : " ") + line
    }.joined()
  }.joined(separator: "\n\n")
}
