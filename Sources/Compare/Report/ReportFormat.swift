import Foundation

/// The output formats of `statetee report`.
public enum ReportFormat: String, Sendable, CaseIterable {
    case md
    case html
    case json

    /// Accepts `md` (or `markdown`), `html`, `json`, in any case.
    public init?(argument: String) {
        switch argument.lowercased() {
        case "md", "markdown": self = .md
        case "html": self = .html
        case "json": self = .json
        default: return nil
        }
    }

    public func render(_ report: Report) -> String {
        switch self {
        case .md: MarkdownReport.render(report)
        case .html: HTMLReport.render(report)
        case .json: JSONReport.render(report)
        }
    }
}

/// The start of a report's window, as `--since` takes it.
public enum ReportSince {
    /// `2h`, `30m`, `90s`, `7d`, `1w` before `now` (whole numbers), or an ISO
    /// 8601 time (`2025-08-01T10:00:00Z`, with fractional seconds or an
    /// offset), or a day (`2025-08-01`, midnight UTC). `nil` when it is none of these.
    public static func parse(_ text: String, now: Date) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let unit = trimmed.last, let seconds = unitSeconds[unit],
            let amount = Int(trimmed.dropLast()), amount >= 0, amount <= 100_000_000 / seconds
        {
            return now.addingTimeInterval(-Double(amount * seconds))
        }
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = full.date(from: trimmed) { return date }
        full.formatOptions = [.withInternetDateTime]
        if let date = full.date(from: trimmed) { return date }
        full.formatOptions = [.withFullDate]
        full.timeZone = TimeZone(identifier: "UTC")
        if trimmed.count == 10, let date = full.date(from: trimmed) { return date }
        return nil
    }

    static let unitSeconds: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// What `--since` accepts, for error messages.
    public static let accepted = "a duration before now (30s, 15m, 2h, 7d, 1w) or an ISO 8601 time (2025-08-01T10:00:00Z) or day (2025-08-01)"
}
