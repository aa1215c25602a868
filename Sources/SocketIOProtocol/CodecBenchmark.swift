import JSONValue

/// A pure encode/decode workload for `statetee bench codec`: a realistic
/// ~1 KB `game_state_update` event, encoded through Socket.IO and Engine.IO
/// (WebSocket framing) and decoded back. The caller does the timing.
public enum CodecBenchmark {
    public struct Result: Sendable, Equatable {
        /// Packets encoded (to WebSocket frame text).
        public var encodedPackets: Int
        /// Packets decoded back to `SocketIOPacket`.
        public var decodedPackets: Int
        /// UTF-8 bytes of all encoded frames.
        public var encodedBytes: Int
        /// UTF-8 bytes of one encoded frame.
        public var packetBytes: Int
    }

    /// A full served game state, as the legacy broadcasts it mid-game.
    public static let sampleState: JSONValue = {
        func player(_ n: Int, name: String, primary: Int, secondary: Int, cp: Int, elapsed: Double) -> JSONValue {
            [
                "name": .string(name), "primary_score": .int(primary), "secondary_score": .int(secondary),
                "total_score": .int(primary + secondary), "cp": .int(cp), "deployment_roll": .int(n + 3),
                "first_turn_roll": .int(6 - n), "player_elapsed_time_seconds": .double(elapsed),
                "player_time_display": .string("00:24:\(10 + n)"), "live_elapsed_seconds": .double(elapsed + 12.625),
            ]
        }
        return [
            "player1": player(1, name: "Astra Militarum – Cadian 8th", primary: 35, secondary: 22, cp: 4, elapsed: 1450.25),
            "player2": player(2, name: "Adeptus Mechanicus", primary: 30, secondary: 27, cp: 2, elapsed: 1388.5),
            "current_round": 3,
            "active_player_id": 2,
            "deployment_initiative_winner_id": 1,
            "deployment_attacker_id": 1,
            "deployment_defender_id": 2,
            "first_turn_choice_winner_id": 2,
            "first_turn_initiative_winner_id": 2,
            "first_player_of_game_id": 2,
            "first_turn_player_id": 2,
            "last_round_played": 2,
            "game_phase": "game_play",
            "status_message": "Adeptus Mechanicus Score Updated",
            "game_timer": [
                "status": "running", "start_time": .double(1_761_500_000.123456),
                "elapsed_display": "00:48:31", "turn_segment_start_time": .double(1_761_502_700.5),
                "elapsed_seconds": .double(2911.877),
            ],
        ]
    }()

    /// The benchmark packet: `42["game_state_update",{...}]`.
    public static let samplePacket = SocketIOPacket.event("game_state_update", [sampleState])

    /// Encodes and decodes `samplePacket` `iterations` times.
    public static func run(iterations: Int) throws(ProtocolError) -> Result {
        let packet = samplePacket
        var result = Result(encodedPackets: 0, decodedPackets: 0, encodedBytes: 0, packetBytes: 0)
        var decoder = SocketIODecoder()
        for _ in 0..<max(0, iterations) {
            // Encode: Socket.IO text, then the Engine.IO WebSocket frame.
            var frames: [WebSocketContent] = []
            for payload in SocketIOCodec.encode(packet) {
                frames.append(EngineIOCodec.encodeWebSocket(EngineIOPacket(kind: .message, payload: payload)))
            }
            result.encodedPackets += 1
            // Decode: frame to Engine.IO packet, then Socket.IO packet.
            for frame in frames {
                if case .text(let text) = frame {
                    result.encodedBytes += text.utf8.count
                    result.packetBytes = text.utf8.count
                }
                let engine = try EngineIOCodec.decodeWebSocket(frame)
                if let decoded = try decoder.decode(engine.payload), decoded.eventName == "game_state_update" {
                    result.decodedPackets += 1
                }
            }
        }
        return result
    }
}
