import Foundation
import Testing
import TestSupport

/// The page in a real browser: headless Chromium loads it, a photo is uploaded through its file
/// input, and the before/after view shows the result at twice the size.
@Suite(.serialized) struct PageBrowserTests {
  @Test func aPhotoUploadedInChromiumComesBackTwiceTheSize() async throws {
    let dir = try temporaryDirectory("page-browser")
    defer { try? FileManager.default.removeItem(at: dir) }
    let photo = dir.appendingPathComponent("chelsea.png")
    try photoPNG(width: 300, height: 200).write(to: photo)
    let server = try await RunningServer.start()
    let port = server.port
    // FMBOOST_PAGE_SCREENSHOT=docs/server-page.png keeps the screenshot (the README's).
    let screenshot = ProcessInfo.processInfo.environment["FMBOOST_PAGE_SCREENSHOT"].map { URL(fileURLWithPath: $0) }
      ?? dir.appendingPathComponent("page.png")
    let size = try await offloaded { () -> String in
      let browser = try HeadlessChromium(profile: dir.appendingPathComponent("profile"))
      let target = try browser.send("Target.createTarget", ["url": "http://127.0.0.1:\(port)/"])["targetId"] as? String ?? ""
      let session = try browser.send("Target.attachToTarget", ["targetId": target, "flatten": true])["sessionId"] as? String ?? ""
      func waitFor(_ expression: String, seconds: Double) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
          if let value = try browser.evaluate(expression, session: session) as? String, !value.isEmpty { return value }
          Thread.sleep(forTimeInterval: 0.2)
        }
        return ""
      }
      _ = try waitFor("document.querySelector('#upscaler option') ? 'ready' : ''", seconds: 30)
      let root = try browser.send("DOM.getDocument", ["depth": 0], session: session)["root"] as? [String: Any]
      let input = try browser.send("DOM.querySelector", ["nodeId": root?["nodeId"] ?? 0, "selector": "#files"], session: session)
      try browser.send("DOM.setFileInputFiles", ["files": [photo.path], "nodeId": input["nodeId"] ?? 0], session: session)
      let size = try waitFor("(() => { const i = document.querySelector('img.result'); return i && i.complete && i.naturalWidth ? i.naturalWidth + 'x' + i.naturalHeight : '' })()",
                             seconds: 120)
      Thread.sleep(forTimeInterval: 0.5)
      let shot = try browser.send("Page.captureScreenshot", ["format": "png"], session: session)["data"] as? String ?? ""
      try Data(base64Encoded: shot)?.write(to: screenshot)
      return size
    }
    await server.stop()
    #expect(size == "600x400", "the result image in the page: '\(size)'")
    #expect(try Data(contentsOf: screenshot).prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
  }
}
