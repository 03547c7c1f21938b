import CSharedMemory
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process speaking Gauntlet's environment protocol (python/PROTOCOL.md): length-prefixed
/// frames (`u32` little-endian length of what follows, a kind byte, the payload) over its standard
/// input and output, or through shared memory once `useSharedMemory` has moved them there. Every
/// wait lasts at most `timeout` seconds, so a server that hangs is an error rather than a hang; a
/// server that exits, closes its output or sends a malformed frame is an error naming `name`. The
/// process is ended (a quit frame, then SIGTERM, then SIGKILL) and reaped when this object goes
/// away, so no zombie remains. Its standard error passes through to Gauntlet's, where the server's
/// own messages (a Python traceback) appear.
final class EnvironmentProcess {
    let name: String
    /// Seconds a reply may take.
    var timeout: Double
    private let process = Process()
    private let input: Int32
    private let output: Int32
    private var closed = false
    /// The shared-memory frames, once the server has taken them.
    private var shared: SharedFrames?

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

    /// Whether frames go through shared memory.
    var usesSharedMemory: Bool { shared != nil }

    /// Moves the frames into a memory file of `capacity` bytes per direction (the server offered
    /// it in its description). Returns false, staying on the pipes, if the server cannot map it.
    func useSharedMemory(capacity: Int) throws(EnvironmentError) -> Bool {
        precondition(shared == nil)
        let frames = try SharedFrames(capacity: capacity, name: name)
        var payload: [UInt8] = []
        appendInteger(UInt32(capacity), to: &payload)
        payload += Array(frames.path.utf8)
        try send(UInt8(ascii: "M"), payload)
        let (kind, reply) = try frameFromPipe()
        if kind == UInt8(ascii: "E") {
            let reason = String(decoding: reply, as: UTF8.self)
            FileHandle.standardError.write(Data("\(name): shared memory refused, frames stay on pipes (\(reason))\n".utf8))
            return false
        }
        guard kind == UInt8(ascii: "K") else { throw failure("malformed reply '\(Character(UnicodeScalar(kind)))' to 'M'") }
        frames.closeFile()
        shared = frames
        return true
    }

    /// Sends one frame.
    func send(_ kind: UInt8, _ payload: [UInt8] = []) throws(EnvironmentError) {
        if let shared {
            guard shared.send(kind, payload) else {
                throw failure("a frame of \(payload.count + 1) bytes does not fit the shared memory (\(shared.capacity) bytes)")
            }
            return
        }
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
        let (kind, payload): (UInt8, [UInt8])
        if let shared {
            try waitForReply(shared)
            guard let frame = shared.reply() else {
                throw failure("malformed frame in shared memory (length outside 1…\(shared.capacity - 4))")
            }
            (kind, payload) = frame
        } else {
            (kind, payload) = try frameFromPipe()
        }
        return try reported(kind, payload)
    }

    /// The frame, unless it is an error frame: then the error it reports.
    private func reported(_ kind: UInt8, _ payload: [UInt8]) throws(EnvironmentError) -> (kind: UInt8, payload: [UInt8]) {
        guard kind != UInt8(ascii: "E") else {
            throw failure("the environment reported: \(String(decoding: payload, as: UTF8.self))")
        }
        return (kind, payload)
    }

    /// The next frame on the pipe, as it is.
    private func frameFromPipe() throws(EnvironmentError) -> (kind: UInt8, payload: [UInt8]) {
        let header = try read(4)
        let length = Int(UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24)
        guard length >= 1, length <= Self.largestFrame else {
            throw failure(
                "malformed frame: length \(length) (the server wrote something that is not a frame to its standard output?)")
        }
        let body = try read(length)
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

    /// Waits for the server's next reply in shared memory: spinning while it is expected soon
    /// (`SharedFrames.spinLimit`), then sleeping on the reply counter in slices, looking between
    /// them at the pipe (a server that exits closes it; a fatal error arrives on it) and at the clock.
    private func waitForReply(_ shared: SharedFrames) throws(EnvironmentError) {
        let start = monotonicSeconds()
        defer { shared.replyTook(monotonicSeconds() - start) }
        let spin = shared.spinLimit
        while !shared.replied && monotonicSeconds() - start < spin { gauntlet_spin_pause() }
        guard !shared.replied else { return }
        // Slices grow from 50 µs: a wake-up the server missed (see SharedFrames.send) costs at most the first.
        var slice = 50e-6
        shared.sleeping = true
        defer { shared.sleeping = false }
        while !shared.replied {
            let waited = monotonicSeconds() - start
            guard waited < timeout else {
                throw failure("no reply within \(timeout) s (the environment process hangs; --env-timeout sets the limit)")
            }
            shared.sleep(seconds: min(slice, timeout - waited))
            slice = min(2 * slice, 0.01)
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            if !shared.replied && poll(&descriptor, 1, 0) > 0 {
                let frame = try frameFromPipe()  // an error frame, or the pipe's end
                let (kind, _) = try reported(frame.kind, frame.payload)
                throw failure(
                    "wrote a '\(Character(UnicodeScalar(kind)))' frame to its standard output while frames go through shared memory"
                )
            }
        }
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
        shared = nil
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

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

/// The shared-memory transport of the protocol (python/PROTOCOL.md, "Shared memory"): an
/// anonymous memory file holding the request counter (byte 0) and the server's sleeping word
/// (byte 4), the reply counter (byte 64) and Gauntlet's sleeping word (byte 68), the request
/// frame (from byte 128) and the reply frame (`capacity` bytes later). A side writes its frame,
/// raises its counter and wakes the futex on it if the other side said it sleeps.
final class SharedFrames {
    static let requestCounter = 0
    static let serverSleeping = 4
    static let replyCounter = 64
    static let gauntletSleeping = 68
    static let frames = 128
    /// The longest spin: a reply expected later than this is slept for (a futex wake-up costs
    /// tens of microseconds on a virtual machine; a millisecond of spinning costs a core).
    static let longestSpin = 0.001
    /// Whether this process may run on one CPU only, where spinning would keep the server off it
    /// (`ExternalEnvironment` then keeps the pipes).
    static let oneCPU = gauntlet_allowed_cpus() <= 1

    let capacity: Int
    /// Where the server opens the file: this process's descriptor of it, until `closeFile()`.
    let path: String
    private var descriptor: Int32
    private let base: UnsafeMutableRawPointer
    private let size: Int
    private var requests: UInt32 = 0
    private var replies: UInt32 = 0
    /// A moving average of the seconds a reply takes.
    private var typicalReply = 50e-6

    /// How long the next wait spins before it sleeps: twice the typical reply time if that is
    /// at most `longestSpin`, else not at all.
    var spinLimit: Double { 2 * typicalReply > Self.longestSpin ? 0 : 2 * typicalReply }

    func replyTook(_ seconds: Double) { typicalReply += (seconds - typicalReply) / 8 }

    init(capacity: Int, name: String) throws(EnvironmentError) {
        self.capacity = capacity
        size = Self.frames + 2 * capacity
        descriptor = gauntlet_memory_file("gauntlet-env")
        guard descriptor >= 0, ftruncate(descriptor, off_t(size)) == 0,
            let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), mapped != MAP_FAILED
        else {
            let reason = String(cString: strerror(errno))
            if descriptor >= 0 { Glibc.close(descriptor) }
            throw EnvironmentError("\(name): cannot make shared memory for the environment process: \(reason)")
        }
        base = mapped
        path = "/proc/\(getpid())/fd/\(descriptor)"
    }

    deinit {
        closeFile()
        munmap(base, size)
    }

    /// Closes the file once the server has mapped it (the mappings stay).
    func closeFile() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    private func counter(_ offset: Int) -> UnsafeMutablePointer<UInt32> {
        (base + offset).assumingMemoryBound(to: UInt32.self)
    }

    /// Writes a request and raises the request counter; false if it does not fit.
    func send(_ kind: UInt8, _ payload: [UInt8]) -> Bool {
        guard payload.count + 5 <= capacity else { return false }
        let frame = base + Self.frames
        frame.storeBytes(of: UInt32(payload.count + 1).littleEndian, as: UInt32.self)
        frame.storeBytes(of: kind, toByteOffset: 4, as: UInt8.self)
        payload.withUnsafeBytes { (frame + 5).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        requests &+= 1
        // Sequentially consistent: the server either sees the new count before it sleeps (the
        // kernel reads the counter after the server's sleeping word is visible) or is seen asleep.
        gauntlet_store(counter(Self.requestCounter), requests)
        if gauntlet_load(counter(Self.serverSleeping)) != 0 { _ = gauntlet_futex_wake(counter(Self.requestCounter)) }
        return true
    }

    /// Whether the server has raised the reply counter past the last reply read.
    var replied: Bool { gauntlet_load(counter(Self.replyCounter)) != replies }

    /// Gauntlet's sleeping word, which asks the server to wake it. The server's stores have no
    /// fence (Python has none), so on rare occasions it may read the word as clear although it
    /// is set: the sleep then ends with its slice.
    var sleeping: Bool {
        get { gauntlet_load(counter(Self.gauntletSleeping)) != 0 }
        set { gauntlet_store(counter(Self.gauntletSleeping), newValue ? 1 : 0) }
    }

    /// Sleeps until the reply counter moves, at most `seconds`.
    func sleep(seconds: Double) {
        _ = gauntlet_futex_wait(counter(Self.replyCounter), replies, Int64(seconds * 1e9))
    }

    /// Takes the reply (after `replied`): its kind and payload, or nil for a malformed length.
    func reply() -> (UInt8, [UInt8])? {
        replies = gauntlet_load(counter(Self.replyCounter))
        let frame = UnsafeRawPointer(base + Self.frames + capacity)
        let length = Int(UInt32(littleEndian: frame.loadUnaligned(as: UInt32.self)))
        guard length >= 1, length <= capacity - 4 else { return nil }
        let kind = frame.load(fromByteOffset: 4, as: UInt8.self)
        return (kind, Array(UnsafeRawBufferPointer(start: frame + 5, count: length - 1)))
    }
}
