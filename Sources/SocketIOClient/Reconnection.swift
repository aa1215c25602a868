import Logging

/// The reconnect decisions shared by ``SocketIOClient`` and ``SocketIORelayClient``
/// (pure: what a connection's end means under a policy).
enum Reconnection {
    enum Step: Sendable {
        case stop
        case fail(any Error)
        /// Reconnect: from the first attempt again (`reset`) or the next one.
        case retry(reset: Bool)
    }

    /// Throws ``SocketIOClientError/reconnectFailed(attempts:)`` when the policy allows no attempt `attempt`.
    static func checkAttempt(_ attempt: Int, policy: SocketIOClient.ReconnectPolicy, logger: Logger) throws {
        if !policy.enabled || (policy.maxAttempts.map { attempt > $0 } ?? false) {
            throw SocketIOClientError.reconnectFailed(attempts: attempt - 1)
        }
        logger.debug("Reconnecting", metadata: ["statetee.attempt": "\(attempt)"])
    }

    /// What a connection's end means: the event to hand on first, then stop, fail or retry.
    /// `stopping`: the client was asked to stop (or its task cancelled).
    static func conclude(
        _ end: SessionEnd, wasConnected: Bool, everConnected: Bool, stopping: Bool,
        policy: SocketIOClient.ReconnectPolicy, logger: Logger
    ) -> (SocketIOClient.Event?, Step) {
        switch end {
        case .clientDisconnect:
            return (wasConnected ? .disconnected(.clientDisconnect) : nil, .stop)
        case .serverDisconnect:
            logger.debug("Server disconnected the client")
            return (.disconnected(.serverDisconnect), .stop)
        case .connectError(let data):
            logger.debug("Server refused the connection", metadata: ["statetee.data": "\(data)"])
            return (.connectError(data), .fail(SocketIOClientError.connectError(data)))
        case .lost(let reason, let error):
            if stopping {
                return (wasConnected ? .disconnected(.clientDisconnect) : nil, .stop)
            }
            if wasConnected {
                logger.debug(
                    "Connection lost",
                    metadata: ["statetee.reason": "\(reason.rawValue)", "statetee.error": "\(error.map { "\($0)" } ?? "-")"])
                return (.disconnected(reason), .retry(reset: true))
            }
            logger.debug("Connect attempt failed", metadata: ["statetee.error": "\(error.map { "\($0)" } ?? reason.rawValue)"])
            if !everConnected, !policy.retryInitialConnect {
                return (nil, .fail(error ?? SocketIOClientError.connectTimeout))
            }
            return (nil, .retry(reset: false))
        }
    }
}
