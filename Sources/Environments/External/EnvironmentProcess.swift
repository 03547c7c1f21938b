import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process speaking Gauntlet's environment protocol (python/PROTOCOL.md) on its standard
/// input and output: length-prefixed frames (`u32` little-endian length of what follows, a kind
/// byte, the payload). Every read waits at most `timeout` seconds, so a server that hangs is an
/// error rather than a hang; a server that exits, closes its output or sends a malformed frame is
/// an error naming `name`. The process is ended (a quit frame, then SIGTERM, then SIGKILL) and
/// reaped when this object goes away, so no zombie remains. Its standard error passes through to
/// Gauntlet's, where the server's own messages (a Python traceback) appear.
final class EnvironmentProcess {
    let name: String
    /// Seconds a reply may take.
    var timeout: Double
    private let process = Process()
    private let input: Int32
    private let output: Int32
    private var closed = false

    /// The largest frame accepted: a 4K RGB image of doubles is ~200 MB; more is a broken stream.
    static let largestFrame = 1 << 28

    /// Writing into a pipe whose reader died must be an error (EPIPE), not the end of Gauntlet.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    init(arguments: [String], name: String, timeout: Double) throws(EnvironmentError) {
        _ = Self.ignoreBrokenPipes
        self.name = name
        self.timeout = timeout
        let stdin = Pipe()
        let stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardInput = stdin
        process.standardOutput = stdout
        do { try process.run() } catch {
            throw EnvironmentError("\(name): cannot start \(arguments[0]): \(error.localizedDescription)")
        }
        input = stdin.fileHandleForWriting.fileDescriptor
        output = stdout.fileHandleForReading.fileDescriptor
        // Keep the descriptors open as long as this object: the Pipe objects would close them.
        pipes = (stdin, stdout)
    }

    private var pipes: (Pipe, Pipe)

    deinit { close() }

    var processIdentifier: Int32 { process.processIdentifier }

    /// Sends one frame.
    func send(_ kind: UInt8, _ payload: [UInt8] = []) throws(EnvironmentError) {
        var frame = [UInt8]()
        frame.reserveCapacity(payload.count + 5)
        appendInteger(UInt32(payload.count + 1), to: &frame)
        frame.append(kind)
        frame += payload
        var written = 0
        while written < frame.count {
            let n = frame.withUnsafeBytes { write(input, $0.baseAddress! + written, frame.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw failure("the environment process stopped reading (\(exitDescription))") }
            written += n
        }
    }

    /// Receives one frame; an error frame ('E') becomes an error with its message.
    func receive() throws(EnvironmentError) -> (kind: UInt8, payload: [UInt8]) {
        let header = try read(4)
        let length = Int(UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24)
        guard length >= 1, length <= Self.largestFrame else {
            throw failure(
                "malformed frame: length \(length) (the server wrote something that is not a frame to its standard output?)")
        }
        let body = try read(length)
        if body[0] == UInt8(ascii: "E") {
            throw failure("the environment reported: \(String(decoding: body.dropFirst(), as: UTF8.self))")
        }
        return (body[0], Array(body.dropFirst()))
    }

    /// Reads exactly `count` bytes, waiting at most `timeout` seconds in all.
    private func read(_ count: Int) throws(EnvironmentError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var received = 0
        let deadline = Date().addingTimeInterval(timeout)
        while received < count {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                throw failure("no reply within \(timeout) s (the environment process hangs; --env-timeout sets the limit)")
            }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            let n = bytes.withUnsafeMutableBytes { Glibc.read(output, $0.baseAddress! + received, count - received) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw failure("the environment process closed its output (\(exitDescription))") }
            received += n
        }
        return bytes
    }

    /// How the process ended, if it has (waiting briefly for it to finish exiting).
    private var exitDescription: String {
        for _ in 0..<50 where process.isRunning { usleep(10_000) }
        guard !process.isRunning else { return "it is still running" }
        return process.terminationReason == .uncaughtSignal
            ? "killed by signal \(process.terminationStatus)" : "exit status \(process.terminationStatus)"
    }

    private func failure(_ message: String) -> EnvironmentError { EnvironmentError("\(name): \(message)") }

    /// Asks the process to quit, then terminates and reaps it.
    func close() {
        guard !closed else { return }
        closed = true
        try? send(UInt8(ascii: "Q"))
        for _ in 0..<100 where process.isRunning { usleep(10_000) }
        if process.isRunning { process.terminate() }
        for _ in 0..<100 where process.isRunning { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Little-endian encoding of the protocol's integers and floats.
func appendInteger<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
}

/// Reads little-endian values from a frame's payload, failing on a short payload.
struct FrameReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(EnvironmentError) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { throw EnvironmentError("short frame: \(bytes.count) bytes") }
        var value = T.zero
        for k in 0..<size { value |= T(bytes[offset + k]) << (8 * k) }
        offset += size
        return value
    }

    mutating func double() throws(EnvironmentError) -> Double { Double(bitPattern: try integer(UInt64.self)) }

    /// An observation: a dtype byte (4 = f32, 8 = f64), a u32 count, the values.
    mutating func observation() throws(EnvironmentError) -> [Float] {
        let dtype = try integer(UInt8.self)
        let count = Int(try integer(UInt32.self))
        guard dtype == 4 || dtype == 8 else { throw EnvironmentError("observation dtype byte \(dtype) (expected 4 or 8)") }
        guard offset + count * Int(dtype) == bytes.count else {
            throw EnvironmentError("observation of \(count) values in \(bytes.count - offset) bytes")
        }
        return try (0..<count).map { _ throws(EnvironmentError) in
            dtype == 4 ? Float(bitPattern: try integer(UInt32.self)) : Float(try double())
        }
    }

    /// A u32 count and that many doubles.
    mutating func doubles() throws(EnvironmentError) -> [Double] {
        let count = Int(try integer(UInt32.self))
        guard offset + count * 8 == bytes.count else {
            throw EnvironmentError("\(count) doubles in \(bytes.count - offset) bytes")
        }
        return try (0..<count).map { _ throws(EnvironmentError) in try double() }
    }
}
