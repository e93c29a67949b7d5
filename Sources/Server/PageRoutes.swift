import Hummingbird

extension FMBoostServer {
  func addPageRoutes(to router: Router<BasicRequestContext>) {
    router.get("/") { _, _ in
      Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: "default-src 'self'; img-src 'self' blob: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"],
               body: ResponseBody(byteBuffer: ByteBuffer(string: Page.html)))
    }
  }
}
