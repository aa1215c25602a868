import ArgumentParser
import Foundation
import JSONValue

/// A duration on the command line: `10s`, `500ms`, `2m`, or plain seconds (`1.5`).
struct BenchDuration: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let duration: Duration
    let description: String

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        var seconds: Double?
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let value = Double(text.dropLast(suffix.count)) {
                seconds = value * scale
                break
            }
        }
        if seconds == nil { seconds = Double(text) }
        guard let seconds, seconds > 0, seconds < 86_400 else { return nil }
        duration = .nanoseconds(Int64(seconds * 1e9))
        description = argument
    }

    init(_ duration: Duration, _ description: String) {
        self.duration = duration
        self.description = description
    }
}

/// A comma-separated list of positive integers: `1,10,100,1000`.
struct BenchCounts: ExpressibleByArgument, Sendable {
    let values: [Int]

    init?(argument: String) {
        let parts = argument.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        values = parts.compactMap { $0 }
    }

    init(_ values: [Int]) { self.values = values }

    var defaultValueDescription: String { values.map(String.init).joined(separator: ",") }
}

/// Number formatting and the machine description shared by the benchmark reports.
enum BenchFormat {
    static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        let fraction = Int(scaled.truncatingRemainder(dividingBy: scale))
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard digits > 0 else { return sign + String(whole) }
        let fractionText = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
    }

    /// Milliseconds with three decimals.
    static func ms(_ value: Double) -> String { fixed(value, digits: 3) }

    /// A ratio like `0.94×`.
    static func ratio(_ value: Double) -> String { value.isFinite ? fixed(value, digits: 2) + "×" : "-" }

    static func integer(_ value: Double) -> String { value.isFinite ? String(Int(value.rounded())) : "-" }

    static func bytes(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        if abs(value) >= 1_048_576 { return fixed(value / 1_048_576, digits: 1) + " MiB" }
        if abs(value) >= 1024 { return fixed(value / 1024, digits: 1) + " KiB" }
        return String(Int(value)) + " B"
    }

    /// A Markdown table.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var lines = ["| " + header.joined(separator: " | ") + " |"]
        lines.append("|" + header.map { _ in "---|" }.joined())
        for row in rows { lines.append("| " + row.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n")
    }

    /// `nproc`, load average and memory, for the report's header.
    static func machineLine() -> String {
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?
            .split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let memory = ProcessInfo.processInfo.physicalMemory / (1 << 20)
        return "machine: \(cores) cores, \(memory) MiB, load average \(load)"
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }

    /// Writes `value` as JSON to `path`.
    static func writeJSON(_ value: JSONValue, to path: String) throws {
        var bytes = value.serializedBytes()
        bytes.append(UInt8(ascii: "\n"))
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw ValidationError("cannot write \(path)")
        }
    }

    /// A JSON number, null when not finite.
    static func number(_ value: Double) -> JSONValue { value.isFinite ? .double(value) : .null }
}
