import Foundation
import JSONValue
import SocketIOServer

/// The last `game_state_update` packet the engine encoded, reused while the served state stays
/// the same: every requester of an unchanged state (`request_game_state`, a connect) gets the
/// bytes of the last broadcast or reply instead of a fresh encode of the ~1 KB document.
///
/// Reuse needs the payload to be *identical* (same keys in the same order, same number types,
/// same bits), not merely equal, since the bytes must be what encoding it again would give. The
/// check costs a few word compares when the payload still shares the cached one's storage (the
/// state untouched since), and stops at the first difference otherwise.
struct EncodedEmissions {
    /// The only event cached: the served state, sent to requesters and broadcast after each save.
    static let cachedEvent = "game_state_update"

    private var last: (payload: JSONValue, packet: SocketIOEncodedPacket)?
    /// Packets encoded so far (tests: a reused packet is not encoded again).
    private(set) var encodes = 0

    /// The packet of `event(payload)` on namespace `/`: the cached one when identical.
    mutating func packet(_ event: String, _ payload: JSONValue) -> SocketIOEncodedPacket {
        if event == Self.cachedEvent, let last, last.payload.isIdentical(to: payload) { return last.packet }
        encodes += 1
        let packet = SocketIOEncodedPacket.event(event, [payload])
        if event == Self.cachedEvent { last = (payload, packet) }
        return packet
    }
}

extension JSONValue {
    /// Whether `self` and `other` serialize to the same bytes: equal with object keys in the same
    /// order, `int` and `double` never mixed, doubles bit for bit.
    func isIdentical(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.bigInt(let a), .bigInt(let b)): return a == b
        case (.double(let a), .double(let b)): return a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): return Self.sameBits(a, b) || a.hasSameUTF8(as: b)
        case (.array(let a), .array(let b)):
            if Self.sameBits(a, b) { return true }
            guard a.count == b.count else { return false }
            for index in a.indices where !a[index].isIdentical(to: b[index]) { return false }
            return true
        case (.object(let a), .object(let b)):
            if Self.sameBits(a, b) { return true }
            guard a.count == b.count else { return false }
            var others = b.makeIterator()
            for (key, value) in a {
                guard let (otherKey, otherValue) = others.next(), key.hasSameUTF8(as: otherKey),
                    value.isIdentical(to: otherValue)
                else { return false }
            }
            return true
        default:
            return false
        }
    }

    /// Whether two values share their storage: the same bits (buffer references and counts) are
    /// the same contents, since a buffer referenced twice is never written in place. This makes
    /// the usual case, the served state unchanged since it was cached, a few word compares;
    /// false only sends the caller to the structural comparison.
    private static func sameBits<T>(_ a: T, _ b: T) -> Bool {
        withUnsafeBytes(of: a) { a in
            withUnsafeBytes(of: b) { b in memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
        }
    }
}
