import ArgumentParser

/// The `qpack` command line: subcommands for each job.
public struct QPackCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "qpack",
        abstract: "Convert, pack, inspect and verify transformer models for Arm CPUs.",
        discussion: """
            Exit codes: 0 success, 1 verification failed, 64 usage error, 65 malformed input, \
            74 I/O error.
            """,
        version: QPackVersion.string,
        subcommands: [
            ConvertCommand.self, PlanCommand.self, InspectCommand.self, VerifyCommand.self, CalibrateCommand.self,
            EvalCommand.self, RunCommand.self, EmbedCommand.self,
            VersionCommand.self,
        ]
    )

    public init() {}
}
