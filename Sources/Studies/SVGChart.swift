import Foundation

/// A small chart as SVG text: one value with a 95 % interval per category and series, drawn as
/// grouped bars or as lines over the categories; whiskers show the intervals.
public struct SVGChart {
  public enum Style { case bars, lines }
  public struct Series {
    public let name: String
    public let values: [Estimate?]
    public init(_ name: String, _ values: [Estimate?]) { (self.name, self.values) = (name, values) }
  }

  public var title: String
  public var yLabel: String
  public var categories: [String]
  public var series: [Series]
  public var style: Style

  public init(title: String, yLabel: String, categories: [String], series: [Series], style: Style) {
    (self.title, self.yLabel, self.categories, self.series, self.style) = (title, yLabel, categories, series, style)
  }

  static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]

  public var svg: String {
    let (width, height, left, right, top, bottom) = (720.0, 380.0, 70.0, 170.0, 40.0, 50.0)
    let plotWidth = width - left - right, plotHeight = height - top - bottom
    let all = series.flatMap { $0.values.compactMap { $0 } }.flatMap { [$0.mean, $0.halfWidth.isNaN ? $0.mean : $0.low, $0.halfWidth.isNaN ? $0.mean : $0.high] }
      .filter(\.isFinite)
    var (low, high) = (min(all.min() ?? 0, style == .bars ? 0 : .infinity), max(all.max() ?? 1, style == .bars ? 0 : -.infinity))
    if high - low < 1e-9 { (low, high) = (low - 1, high + 1) }
    let pad = (high - low) * 0.08
    (low, high) = (low - (style == .bars && low == 0 ? 0 : pad), high + pad)
    func y(_ v: Double) -> Double { top + plotHeight * (1 - (v - low) / (high - low)) }
    let slot = plotWidth / Double(max(1, categories.count))
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    var out = [##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(width))" height="\##(Int(height))" font-family="sans-serif" font-size="12">"##,
               ##"<rect width="100%" height="100%" fill="white"/>"##,
               ##"<text x="\##(f(width / 2))" y="22" text-anchor="middle" font-size="14">\##(escape(title))</text>"##,
               ##"<text transform="translate(16,\##(f(top + plotHeight / 2))) rotate(-90)" text-anchor="middle">\##(escape(yLabel))</text>"##]
    for tick in ticks(low, high) {
      out.append(##"<line x1="\##(f(left))" x2="\##(f(left + plotWidth))" y1="\##(f(y(tick)))" y2="\##(f(y(tick)))" stroke="#ddd"/>"##)
      out.append(##"<text x="\##(f(left - 6))" y="\##(f(y(tick) + 4))" text-anchor="end">\##(String(format: "%g", tick))</text>"##)
    }
    if style == .bars, low < 0, high > 0 {
      out.append(##"<line x1="\##(f(left))" x2="\##(f(left + plotWidth))" y1="\##(f(y(0)))" y2="\##(f(y(0)))" stroke="black"/>"##)
    }
    for (c, category) in categories.enumerated() {
      out.append(##"<text x="\##(f(left + slot * (Double(c) + 0.5)))" y="\##(f(top + plotHeight + 20))" text-anchor="middle">\##(escape(category))</text>"##)
    }
    let barWidth = slot * 0.8 / Double(max(1, series.count))
    for (s, line) in series.enumerated() {
      let color = Self.palette[s % Self.palette.count]
      var points: [String] = []
      for (c, value) in line.values.enumerated() {
        guard let value, value.mean.isFinite else { continue }
        let x = style == .bars ? left + slot * (Double(c) + 0.1) + barWidth * (Double(s) + 0.5) : left + slot * (Double(c) + 0.5)
        if style == .bars {
          let (top, bottom) = (y(max(0, value.mean)), y(min(0, value.mean)))
          out.append(##"<rect x="\##(f(x - barWidth / 2))" y="\##(f(top))" width="\##(f(barWidth * 0.9))" height="\##(f(bottom - top))" fill="\##(color)"/>"##)
        } else {
          points.append("\(f(x)),\(f(y(value.mean)))")
          out.append(##"<circle cx="\##(f(x))" cy="\##(f(y(value.mean)))" r="3" fill="\##(color)"/>"##)
        }
        if value.halfWidth.isFinite {
          out.append(##"<line x1="\##(f(x))" x2="\##(f(x))" y1="\##(f(y(value.low)))" y2="\##(f(y(value.high)))" stroke="black"/>"##)
        }
      }
      if style == .lines, points.count > 1 {
        out.append(##"<polyline points="\##(points.joined(separator: " "))" fill="none" stroke="\##(color)" stroke-width="2"/>"##)
      }
      let ly = top + 16 * Double(s)
      out.append(##"<rect x="\##(f(width - right + 12))" y="\##(f(ly))" width="12" height="12" fill="\##(color)"/>"##)
      out.append(##"<text x="\##(f(width - right + 30))" y="\##(f(ly + 10))">\##(escape(line.name))</text>"##)
    }
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }

  /// About five round tick values over [low, high].
  func ticks(_ low: Double, _ high: Double) -> [Double] {
    let raw = (high - low) / 5, magnitude = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
    return stride(from: (low / step).rounded(.up) * step, through: high, by: step).map { $0 }
  }

  func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
  }
}
