import ArgumentParser

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Show qpack's version and the versions of the libraries it links."
    )

    func run() throws {
        print("qpack \(QPackVersion.string)")
        for lib in QPackVersion.libraries {
            print("  \(lib.name) \(lib.version)")
        }
    }
}
