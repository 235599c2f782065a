#if canImport(Glibc)
    import Glibc
#endif
import ArgumentParser
import QPackBinary
import Foundation

/// Where a command may write. An output that is one of the command's own inputs (the same file by
/// device and inode, whatever path or link names it) is refused even with --force, and so is a
/// directory, device node, FIFO or socket; an existing file needs --force. Usage errors (64),
/// checked before any work, so nothing is destroyed and nothing half-written.
enum OutputPolicy {
    static func check(_ output: String, force: Bool, inputs: [String]) throws(ExitCode) {
        var target = stat()
        guard lstat(output, &target) == 0 else { return }  // nothing there yet
        let kind = target.st_mode & S_IFMT
        if kind != S_IFREG && kind != S_IFLNK {
            let what = kind == S_IFDIR ? "a directory" : kind == S_IFIFO ? "a FIFO" : "not a regular file"
            printError("\(output): \(what); give a file name to write")
            throw QPackExit.usage
        }
        var resolved = stat()
        if stat(output, &resolved) == 0 {
            for input in inputs {
                var s = stat()
                if stat(input, &s) == 0, s.st_dev == resolved.st_dev, s.st_ino == resolved.st_ino {
                    printError("\(output): is also an input of this command (\(input)); write the output elsewhere")
                    throw QPackExit.usage
                }
            }
        }
        if !force {
            printError("\(output): already exists (use --force to replace it)")
            throw QPackExit.usage
        }
    }

    /// Writes a whole output through `OutputFile` (published in one step, or nothing on failure).
    static func write(_ bytes: [UInt8], to output: String, force: Bool) throws(ExitCode) {
        do { try OutputFile.write(bytes, to: output, force: force) } catch {
            printError(error.description)
            throw error.kind == .usage ? QPackExit.usage : QPackExit.ioError
        }
    }

    /// The files read beside a checkpoint file (config.json, the tokenizer files), for the check.
    static func companions(of model: String) -> [String] {
        let dir = model.contains("/") ? String(model[..<model.lastIndex(of: "/")!]) : "."
        return [model] + ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"].map { dir + "/" + $0 }
    }
}
