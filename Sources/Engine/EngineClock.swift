import Foundation

/// The engine's wall clock: Unix seconds as a `Double`, like the legacy's
/// `time.time()`. Injected so tests run on a clock they move themselves.
public struct EngineClock: Sendable {
    private let read: @Sendable () -> Double

    /// A clock reading `read()`.
    public init(_ read: @escaping @Sendable () -> Double) {
        self.read = read
    }

    /// The current Unix time in seconds.
    public func now() -> Double { read() }

    /// The system's wall clock.
    public static let system = EngineClock { Date().timeIntervalSince1970 }
}
