import ArgumentParser
import Foundation
import QPackFuzz
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// When the running case started (nanoseconds, monotonic), 0 between cases; the watchdog reads it.
let caseStart = Atomic<UInt64>(0)

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// The fuzzer's own messages go to the terminal's standard error, saved before the commands'
/// output is sent to /dev/null.
nonisolated(unsafe) var reportDescriptor: Int32 = 2

func report(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(reportDescriptor, $0.baseAddress, $0.count) }
}

/// The state file's path as a C string, for the crash handler (which may not allocate).
nonisolated(unsafe) var statePath: UnsafeMutablePointer<CChar>?

/// On a crash, names the case (the state file's line) on the report descriptor, then dies of
/// the same signal so the exit status says what happened.
func installCrashReport(stateFile: String) {
    statePath = strdup(stateFile)
    for sig in [SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGTRAP] {
        signal(sig) { sig in
            let prefix = "qpack-fuzz: crash in case: "
            _ = prefix.withCString { write(reportDescriptor, $0, strlen($0)) }
            if let path = statePath {
                let fd = open(path, O_RDONLY)
                var buffer = [UInt8](repeating: 0, count: 256)
                let n = read(fd, &buffer, buffer.count)
                if n > 0 { _ = write(reportDescriptor, buffer, n) }
            }
            signal(sig, SIG_DFL)
            raise(sig)
        }
    }
}

@main
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qpack-fuzz",
        abstract: "Mutation fuzzer for qpack's readers, driving the qpack commands in this process.",
        discussion: """
            Case i of a target is a function of (--seed, target, i): rerun one with --start i --iterations 1. \
            Before each case the file <work>/current names it; after a crash, <work>/case holds its files. \
            Exit 0: no finding; 1: findings (undocumented exit codes, output left by a failed command); \
            3: a case ran longer than --hang-seconds; a crash ends the process by its signal.
            """)

    @Option(help: "Seed of every mutation.") var seed: UInt64 = 1
    @Option(help: "Cases per target.") var iterations: Int = 100
    @Option(help: "First case number.") var start: Int = 0
    @Option(parsing: .upToNextOption, help: "Targets (default: all).") var target: [String] = []
    @Option(help: "The repository's Fixtures directory.") var fixtures: String = "Fixtures"
    @Option(help: "Working directory (base material, the current case).") var work: String?
    @Option(help: "A case running longer than this is a hang.") var hangSeconds: Double = 10
    @Option(help: "Address-space limit in MiB: an allocation beyond it is a crash.") var memoryMiB: Int = 4096
    @Flag(help: "List the targets and exit.") var list = false
    @Flag(help: "Report every command's exit code.") var verbose = false
    @Option(help: "Report cases that take longer than this (they are not findings).") var slowSeconds: Double = 2

    func run() throws {
        if list {
            print(Targets.names.joined(separator: "\n"))
            return
        }
        let targets = target.isEmpty ? Targets.names : target
        for t in targets where !Targets.names.contains(t) {
            throw ValidationError("unknown target '\(t)' (targets: \(Targets.names.joined(separator: ", ")))")
        }
        let workDirectory = work ?? NSTemporaryDirectory() + "qpack-fuzz-\(getpid())"
        let fixturesPath = URL(fileURLWithPath: fixtures).standardizedFileURL.path
        let base = workDirectory + "/base"
        let caseDirectory = workDirectory + "/case"

        var limit = rlimit(rlim_cur: rlim_t(memoryMiB) << 20, rlim_max: rlim_t(memoryMiB) << 20)
        if setrlimit(Int32(RLIMIT_AS.rawValue), &limit) != 0 { report("qpack-fuzz: cannot limit memory") }

        // Commands print; only the fuzzer's report reaches the terminal.
        reportDescriptor = dup(2)
        let null = open("/dev/null", O_WRONLY)
        try Setup.prepare(base: base, fixtures: fixturesPath)
        dup2(null, 1)
        dup2(null, 2)

        startWatchdog(hangSeconds: hangSeconds, work: workDirectory)
        let stateFile = workDirectory + "/current"
        installCrashReport(stateFile: stateFile)
        var totalFindings = 0
        for name in targets {
            let index = Targets.names.firstIndex(of: name) ?? 0
            let t = try Targets.build(name: name, fixtures: fixturesPath, base: base)
            let fuzzer = Fuzzer(target: t, targetIndex: index, seed: seed, caseDirectory: caseDirectory, base: base)
            var histogram: [Int32: Int] = [:]
            var slowest: [String] = []
            let began = monotonicNanoseconds()
            for i in start..<(start + iterations) {
                let state = "\(name) \(i) seed \(seed)\n"
                FileManager.default.createFile(atPath: stateFile, contents: Data(state.utf8))
                let seedUsed = try fuzzer.writeCase(i)
                caseStart.store(monotonicNanoseconds(), ordering: .sequentiallyConsistent)
                let (codes, findings) = fuzzer.runCase(file: seedUsed.file) { k in
                    let line = "\(name) \(i) seed \(seed) command \(k)\n"
                    FileManager.default.createFile(atPath: stateFile, contents: Data(line.utf8))
                }
                let took = Double(monotonicNanoseconds() - caseStart.load(ordering: .sequentiallyConsistent)) / 1e9
                caseStart.store(0, ordering: .sequentiallyConsistent)
                if took > slowSeconds {
                    slowest.append(String(format: "%.1f s", took) + " case \(i)")
                }
                for c in codes { histogram[c, default: 0] += 1 }
                if verbose {
                    for (k, c) in codes.enumerated() {
                        report(
                            "\(name) \(i): exit \(c): \(fuzzer.arguments(t.commands[k], file: seedUsed.file).joined(separator: " "))"
                        )
                    }
                }
                for f in findings {
                    totalFindings += 1
                    report("qpack-fuzz: \(name) case \(i) (seed \(seed)): \(f)")
                }
            }
            let seconds = Double(monotonicNanoseconds() - began) / 1e9
            let codes = histogram.keys.sorted().map { "exit \($0): \(histogram[$0] ?? 0)" }.joined(separator: ", ")
            report(
                "qpack-fuzz: \(name): cases \(start)..<\(start + iterations), seed \(seed), "
                    + "\(String(format: "%.1f", seconds)) s; \(codes)"
                    + (slowest.isEmpty ? "" : "; over \(slowSeconds) s: " + slowest.prefix(10).joined(separator: ", ")))
        }
        try? FileManager.default.removeItem(atPath: stateFile)
        if totalFindings > 0 { throw ExitCode(1) }
    }

    func startWatchdog(hangSeconds: Double, work: String) {
        let limit = UInt64(hangSeconds * 1e9)
        let thread = Thread {
            while true {
                usleep(100_000)
                let began = caseStart.load(ordering: .sequentiallyConsistent)
                if began != 0 && monotonicNanoseconds() - began > limit {
                    let state = (try? String(contentsOfFile: work + "/current", encoding: .utf8)) ?? "?"
                    report("qpack-fuzz: hang (over \(hangSeconds) s): \(state)case files in \(work)/case")
                    _exit(3)
                }
            }
        }
        thread.start()
    }
}
