#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// C's pow, which CPython's float `**` also calls.
@inline(__always)
func cPow(_ base: Double, _ exponent: Double) -> Double { pow(base, exponent) }
