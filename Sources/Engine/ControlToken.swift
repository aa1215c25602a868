import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The control API's bearer token file, `control-token` in the data directory.
public enum ControlToken {
    /// The file name inside the data directory.
    public static let fileName = "control-token"

    /// Reads the token from `directory/control-token`, creating the file when
    /// absent: 32 random bytes as 64 hex digits, mode 0600, synced.
    public static func loadOrCreate(inDirectory directory: String) throws(EngineError) -> String {
        let path = (directory as NSString).appendingPathComponent(fileName)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .controlToken(path: path, detail: "\(error)")
        }
        if let existing = try read(path) { return existing }
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd < 0 {
            // Another process created it between the read and the open: use theirs.
            if errno == EEXIST, let existing = try read(path) { return existing }
            throw .controlToken(path: path, detail: String(cString: strerror(errno)))
        }
        defer { _ = close(fd) }
        let bytes = Array((token + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw .controlToken(path: path, detail: String(cString: strerror(errno)))
        }
        return token
    }

    /// The trimmed file content, nil when the file does not exist.
    private static func read(_ path: String) throws(EngineError) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .controlToken(path: path, detail: "unreadable")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .controlToken(path: path, detail: "the file is empty") }
        return token
    }

    /// Whether an `Authorization` header value carries `token` as a bearer
    /// token, compared in constant time.
    public static func authorizes(_ header: String?, token: String) -> Bool {
        guard let header else { return false }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return false }
        let given = Array(parts[1].trimmingCharacters(in: .whitespaces).utf8)
        let expected = Array(token.utf8)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in 0..<expected.count {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}
