import ArgumentParser
import SocketIOProtocol

extension StateTee {
    /// Benchmarks; each kind is a subcommand (`statetee bench codec`, ...).
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench",
            abstract: "Measure StateTee's parts on this machine.",
            subcommands: [Codec.self, Load.self, Memory.self, CompareSpeed.self, Switchover.self]
        )
    }
}

extension StateTee.Bench {
    /// `statetee bench codec [--iterations N]`: Socket.IO + Engine.IO encode and
    /// decode throughput for a ~1 KB `game_state_update` packet.
    struct Codec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "codec",
            abstract: "Encode and decode a ~1 KB game_state_update Socket.IO packet; print packets/s and MB/s."
        )

        @Option(help: "Packets to encode and to decode.")
        var iterations: Int = 200_000

        func validate() throws {
            guard iterations > 0 else { throw ValidationError("--iterations must be positive") }
        }

        func run() async throws {
            let clock = ContinuousClock()
            // Warm up caches and allocator.
            _ = CodecBenchmark.encode(iterations: min(iterations, 1000))
            _ = try CodecBenchmark.decode(iterations: min(iterations, 1000))

            var encoded = CodecBenchmark.Result()
            let encodeTime = clock.measure { encoded = CodecBenchmark.encode(iterations: iterations) }
            var decoded = encoded
            let decodeTime = try clock.measure { decoded = try CodecBenchmark.decode(iterations: iterations) }
            guard decoded.decodedPackets == iterations, encoded.encodedPackets == iterations else {
                throw ValidationError("codec benchmark lost packets")
            }

            print("codec benchmark: \(iterations) packets of \(encoded.packetBytes) bytes (42[\"game_state_update\",{...}])")
            print(Self.line("encode", packets: encoded.encodedPackets, bytes: encoded.encodedBytes, time: encodeTime))
            print(Self.line("decode", packets: decoded.decodedPackets, bytes: decoded.packetBytes * iterations, time: decodeTime))
        }

        static func line(_ name: String, packets: Int, bytes: Int, time: Duration) -> String {
            let seconds = Double(time.components.seconds) + Double(time.components.attoseconds) / 1e18
            let perSecond = seconds > 0 ? Double(packets) / seconds : 0
            let megabytes = seconds > 0 ? Double(bytes) / 1_000_000 / seconds : 0
            return "\(name): \(Int(perSecond.rounded())) packets/s, \(fixed(megabytes, digits: 1)) MB/s (\(fixed(seconds, digits: 3)) s)"
        }

        static func fixed(_ value: Double, digits: Int) -> String {
            var scale = 1
            for _ in 0..<digits { scale *= 10 }
            let scaled = Int((value * Double(scale)).rounded())
            let fraction = String(scaled % scale)
            return "\(scaled / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
    }
}
