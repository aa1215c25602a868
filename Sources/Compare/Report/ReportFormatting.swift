import Foundation
import JSONValue

/// Text helpers shared by the renderers: deterministic (no locale, no time
/// zone: UTC), so reports and their snapshots are stable.
public enum ReportFormatting {
    /// `2025-08-01T10:00:05.250Z` (UTC, milliseconds).
    public static func isoTime(_ date: Date) -> String {
        let (day, milliseconds) = split(date)
        let (y, m, d) = civil(fromDays: day)
        let seconds = milliseconds / 1000
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):"
            + "\(pad(seconds % 60, 2)).\(pad(milliseconds % 1000, 3))Z"
    }

    /// `10:00:05` (UTC).
    public static func clockTime(_ date: Date) -> String {
        let seconds = split(date).1 / 1000
        return "\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
    }

    /// `2025-08-01` (UTC).
    public static func day(_ date: Date) -> String {
        let (y, m, d) = civil(fromDays: split(date).0)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// Days since 1970-01-01 and milliseconds into that day.
    private static func split(_ date: Date) -> (Int, Int) {
        let total = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        let perDay = 86_400_000
        let day = total >= 0 ? total / perDay : -((-total + perDay - 1) / perDay)
        return (day, total - day * perDay)
    }

    /// Howard Hinnant's days-to-civil.
    private static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// `1 range`, `3 ranges`.
    public static func count(_ n: Int, _ noun: String) -> String {
        n == 1 ? "1 \(noun)" : "\(n) \(noun)s"
    }

    /// `86.7%` (one decimal).
    public static func percent(_ share: Double) -> String {
        let tenths = Int((share * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    /// `12 ms`, `1.250 s`.
    public static func duration(_ d: Duration) -> String {
        let (s, atto) = d.components
        let ms = Int(s) * 1000 + Int(atto / 1_000_000_000_000_000)
        if ms < 1000 { return "\(ms) ms" }
        return "\(ms / 1000).\(pad(ms % 1000, 3)) s"
    }

    /// Indented JSON (two spaces), keys in document order.
    public static func prettyJSON(_ value: JSONValue, indent: Int = 0) -> String {
        let inner = String(repeating: " ", count: indent + 2)
        let outer = String(repeating: " ", count: indent)
        switch value {
        case .array(let items) where !items.isEmpty:
            return "[\n" + items.map { inner + prettyJSON($0, indent: indent + 2) }.joined(separator: ",\n") + "\n" + outer + "]"
        case .object(let object) where !object.isEmpty:
            let members = object.map { key, member in
                inner + JSONValue.string(key).serialized() + ": " + prettyJSON(member, indent: indent + 2)
            }
            return "{\n" + members.joined(separator: ",\n") + "\n" + outer + "}"
        default:
            return value.serialized()
        }
    }

    /// A value for one line of text: compact JSON, `(absent)` for none,
    /// cut to `limit` characters.
    public static func compact(_ value: JSONValue?, limit: Int = 240) -> String {
        guard let value else { return "(absent)" }
        let text = value.serialized()
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }

    // MARK: JSON forms (stable keys)

    public static func eventJSON(_ e: MirroredEvent) -> JSONValue {
        var o: JSONObject = [:]
        o["sequence"] = .int(Int(e.sequence))
        o["session"] = .string(e.sessionID)
        o["client_role"] = .string(e.clientRole)
        o["event"] = .string(e.name)
        o["arguments"] = .array(e.arguments)
        o["received_at"] = .string(isoTime(e.receivedAt))
        o["mirrored_to_shadow"] = .bool(e.mirroredToShadow)
        return .object(o)
    }

    public static func divergenceJSON(_ d: DivergenceEntry) -> JSONValue {
        var o: JSONObject = [:]
        o["comparison"] = d.comparisonID.map { .int(Int($0)) } ?? .null
        o["sequence"] = .int(Int(d.sequence))
        o["blame"] = .string(d.blame.rawValue)
        o["source"] = .string(d.source.rawValue)
        o["session"] = d.sessionID.map(JSONValue.string) ?? .null
        o["path"] = .string(d.path)
        o["kind"] = .string(d.kind)
        o["class"] = .string(d.classification.rawValue)
        o["known_id"] = d.knownID.map(JSONValue.string) ?? .null
        o["reason"] = d.reason.map(JSONValue.string) ?? .null
        o["primary_present"] = .bool(d.primaryValue != nil)
        o["primary"] = d.primaryValue ?? .null
        o["shadow_present"] = .bool(d.shadowValue != nil)
        o["shadow"] = d.shadowValue ?? .null
        o["detail"] = d.detail.map(JSONValue.string) ?? .null
        return .object(o)
    }

    public static func comparisonJSON(_ c: ComparisonEntry) -> JSONValue {
        var o: JSONObject = [:]
        o["id"] = c.id.map { .int(Int($0)) } ?? .null
        o["kind"] = .string(c.kind.rawValue)
        o["first_sequence"] = .int(Int(c.firstSequence))
        o["last_sequence"] = .int(Int(c.lastSequence))
        o["time"] = .string(isoTime(c.time))
        o["outcome"] = .string(c.outcome.rawValue)
        o["unexpected"] = .int(c.unexpectedCount)
        o["accepted"] = .int(c.acceptedCount)
        o["resynced"] = .bool(c.resynced)
        o["after_gap"] = .bool(c.afterGap)
        o["error"] = c.error.map(JSONValue.string) ?? .null
        return .object(o)
    }
}
