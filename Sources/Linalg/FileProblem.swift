import Foundation

/// Why `url` could not be read, in words a user can act on ("no such file", "it is a
/// directory") rather than Foundation's error domain and code.
public func readProblem(at url: URL, _ error: any Error) -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return "no such file" }
    if isDirectory.boolValue { return "it is a directory, not a file" }
    if !FileManager.default.isReadableFile(atPath: url.path) { return "permission denied" }
    return error.localizedDescription
}
