/// Asks `probe` again every `interval` until it returns a value, throwing ``TimeoutError``
/// after `timeout`. Only for facts that no event announces, where a read is the only way
/// to see them: another process's files, status or state. Return `nil` with `guard ... else
/// { return nil }`: in `ok ? value : nil` a `JSONValue` takes the literal as `JSONValue.null`,
/// a value, and the poll ends at once.
public func poll<Result: Sendable>(
    _ what: String,
    timeout: Duration = .seconds(10),
    every interval: Duration = .milliseconds(50),
    _ probe: @Sendable @escaping () async throws -> Result?
) async throws -> Result {
    try await withTimeout(timeout, what) {
        while true {
            if let result = try await probe() { return result }
            try await Task.sleep(for: interval)
        }
    }
}

/// Reads `read` every `interval` until `done` holds for a read or `timeout` passed, and
/// returns the last read either way (the caller's expectations then say what is wrong). For
/// the same facts as ``poll(_:timeout:every:_:)``: another process's state, which announces
/// nothing. A read that throws (a server too busy to answer in time on a loaded machine) is
/// tried again until `timeout`, then its error is thrown.
public func pollUntil<Value: Sendable>(
    timeout: Duration = .seconds(5),
    every interval: Duration = .milliseconds(50),
    _ read: () async throws -> Value,
    done: (Value) -> Bool
) async throws -> Value {
    let deadline = ContinuousClock.now + timeout
    while true {
        let value: Value
        do {
            value = try await read()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if ContinuousClock.now >= deadline { throw error }
            try await Task.sleep(for: interval)
            continue
        }
        if done(value) || ContinuousClock.now >= deadline { return value }
        try await Task.sleep(for: interval)
    }
}
