import ArgumentParser
import QPackCommands

/// Runs qpack commands in this process, as the `qpack` executable would, and returns the exit
/// code the executable would have ended with.
public enum CommandRunner {
    public static func run(_ arguments: [String]) -> Int32 {
        do {
            var command = try QPackCommand.parseAsRoot(arguments)
            try command.run()
            return 0
        } catch {
            return QPackCommand.exitCode(for: error).rawValue
        }
    }

    /// The exit codes qpack documents; anything else from a command is a finding.
    public static let documentedCodes: Set<Int32> = [0, 1, 64, 65, 74]
}
