import SocketIOClient
import StateTeeTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs `run` (a client's run loop) beside `body`, then `stop`s the client and waits for
/// `run` to end; on a failure of `body`, stops it and cancels `run`.
func withRunningClient<Result>(
    run: @escaping @Sendable () async throws -> Void,
    stop: @escaping @Sendable () async -> Void,
    _ body: () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await run() }
        do {
            let result = try await body()
            await stop()
            try await group.waitForAll()
            return result
        } catch {
            await stop()
            group.cancelAll()
            throw error
        }
    }
}

/// A TCP socket bound to 127.0.0.1 on a free port, listening (the kernel accepts
/// connections into its backlog) or not (connecting is refused); closed by the caller.
func loopbackSocket(listening: Bool) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    try #require(fd >= 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ready = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(fd, generic, length) == 0 && (!listening || listen(fd, 8) == 0) && getsockname(fd, generic, &length) == 0
        }
    }
    guard ready else {
        close(fd)
        throw LoopbackSocketFailed()
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

struct LoopbackSocketFailed: Error {}
