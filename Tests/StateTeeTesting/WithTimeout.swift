/// Thrown by ``withTimeout(_:_:)`` when the operation did not finish in time.
public struct TimeoutError: Error, Equatable, Sendable, CustomStringConvertible {
    public let timeout: Duration
    public let what: String

    public init(timeout: Duration, what: String) {
        self.timeout = timeout
        self.what = what
    }

    public var description: String { "timed out after \(timeout) waiting for \(what)" }
}

/// Runs `operation`, cancelling it and throwing ``TimeoutError`` if it takes
/// longer than `timeout`. The operation must respond to cancellation.
public func withTimeout<Result: Sendable>(
    _ timeout: Duration,
    _ what: String = "an operation",
    _ operation: @Sendable @escaping () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw TimeoutError(timeout: timeout, what: what)
        }
        return result
    }
}
