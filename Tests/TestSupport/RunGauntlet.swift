import Foundation

/// What a run of the `gauntlet` binary produced.
public struct GauntletRun {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String
}

/// Runs the `gauntlet` executable built next to the test bundle with `arguments`, feeding
/// `input` on standard input.
public func runGauntlet(_ arguments: [String], input: String = "", environment: [String: String] = [:]) throws -> GauntletRun {
    let directory = Bundle.main.executableURL!.deletingLastPathComponent()
    let process = Process()
    process.executableURL = directory.appendingPathComponent("gauntlet")
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.currentDirectoryURL = fixtureURL("").deletingLastPathComponent().deletingLastPathComponent()
    let stdin = Pipe()
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    let err = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return GauntletRun(
        status: process.terminationStatus, standardOutput: String(decoding: out, as: UTF8.self),
        standardError: String(decoding: err, as: UTF8.self))
}
