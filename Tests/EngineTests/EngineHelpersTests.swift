import Foundation
import Testing

@testable import Engine

/// The small pure parts: the player page template, the token bucket, the control token.
@Suite struct EngineHelpersTests {
    @Test(arguments: [
        ("{{ player_id }}", 1, "1"),
        ("{{player_id}}-{{ 3 - player_id }}", 2, "2-1"),
        ("/player/{{ 3 - player_id }}", 1, "/player/2"),
        ("{{ player_id + 10 - 1 }}", 2, "11"),
        ("a {{ undefined_name }} b", 1, "a  b"),
        ("no expressions", 1, "no expressions"),
        ("open {{ player_id", 1, "open {{ player_id"),
    ])
    func playerPageTemplate(_ template: String, _ id: Int, _ expected: String) {
        #expect(PlayerPageTemplate.render(template, playerID: id) == expected)
    }

    @Test func tokenBucketRefillsAtItsRate() {
        var bucket = TokenBucket(rate: 2, now: 100)
        var taken: [Bool] = []
        for now in [100, 100, 100.2, 100.6, 50, 110, 110, 110] {
            taken.append(bucket.take(now: now))
        }
        // Two at once; none 0.2 s later; one after 0.6 s (1.2 tokens); a clock
        // stepping back refills nothing; after a long pause, capped at one second's worth.
        #expect(taken == [true, true, false, true, false, true, true, false])
    }

    @Test func controlTokenFileIsCreatedOnceWithMode0600() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/nested/data"
            let token = try ControlToken.loadOrCreate(inDirectory: data)
            #expect(token.count == 64 && token.allSatisfy(\.isHexDigit))
            #expect(try ControlToken.loadOrCreate(inDirectory: data) == token)
            let attributes = try FileManager.default.attributesOfItem(atPath: data + "/control-token")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            try "  given-token \n".write(toFile: directory + "/control-token", atomically: true, encoding: .utf8)
            #expect(try ControlToken.loadOrCreate(inDirectory: directory) == "given-token")
            try "".write(toFile: directory + "/control-token", atomically: true, encoding: .utf8)
            #expect(throws: EngineError.controlToken(path: directory + "/control-token")) {
                try ControlToken.loadOrCreate(inDirectory: directory)
            }
        }
    }

    @Test func bearerTokensAreCheckedExactly() {
        #expect(ControlToken.authorizes("Bearer secret", token: "secret"))
        #expect(ControlToken.authorizes("bearer secret", token: "secret"))
        for header in [nil, "", "Bearer", "Bearer ", "Bearer secre", "Bearer secret2", "Basic secret", "secret"] as [String?] {
            #expect(!ControlToken.authorizes(header, token: "secret"), "\(header ?? "nil")")
        }
    }
}
