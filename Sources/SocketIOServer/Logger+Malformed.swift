import Logging
import SocketIOProtocol

extension Logger.Metadata {
    /// What a "malformed" log line says of a session's bad input: its sid, the error and its kind.
    static func malformed(_ error: ProtocolError, sid: String) -> Self {
        [
            "statetee.sid": .string(sid),
            "statetee.error": .string(error.description),
            "statetee.error.kind": .string(error.shortDescription),
        ]
    }
}
