import Foundation
import QPackBinary

/// Where tests find committed fixtures, the fetched real models and the built `qpack`.
public enum TestPaths {
    public static let repoRoot: String = {
        // Tests/QPackTestSupport/TestPaths.swift -> repo root
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static let fixtures = repoRoot + "/Fixtures"

    public static func fixture(_ relative: String) -> String { fixtures + "/" + relative }

    /// Directory of the real models (scripts/fetch-models.sh), or nil when they are absent and
    /// not required. With QPACK_REQUIRE_MODELS=1 (set by scripts/test.sh and CI) absence is an
    /// error the caller reports as a failure.
    public static var modelsDirectory: String {
        ProcessInfo.processInfo.environment["QPACK_MODELS_DIR"] ?? repoRoot + "/.cache/models"
    }

    public static var modelsRequired: Bool {
        ProcessInfo.processInfo.environment["QPACK_REQUIRE_MODELS"] == "1"
    }

    public static var miniLMPath: String { modelsDirectory + "/all-MiniLM-L6-v2/model.safetensors" }
    public static var smolLMPath: String { modelsDirectory + "/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf" }

    /// Hugging Face Llama checkpoints derived from the SmolLM2 GGUF by scripts/make-hf-llama.sh
    /// (plain, and with a Llama 3.1 rope_scaling block), each with its numpy reference.
    public static var hfLlamaDirectory: String { modelsDirectory + "/SmolLM2-135M-Instruct-hf" }
    /// A Q4_0 copy of the SmolLM2 GGUF written by gguf-py (the same script).
    public static var smolLMQ4_0Path: String {
        modelsDirectory + "/SmolLM2-135M-Instruct-q4_0/SmolLM2-135M-Instruct.Q4_0.gguf"
    }
    public static var hfLlama3Directory: String { modelsDirectory + "/SmolLM2-135M-Instruct-hf-llama3" }
    public static var runHFLlamaTests: Bool {
        modelsRequired || FileManager.default.fileExists(atPath: hfLlama3Directory + "/reference.json")
    }

    public static var modelsPresent: Bool {
        FileManager.default.fileExists(atPath: miniLMPath) && FileManager.default.fileExists(atPath: smolLMPath)
    }

    /// True when tests that need the real models should run: present, or required (then they
    /// run and fail loudly on the missing file instead of skipping).
    public static var runModelTests: Bool { modelsPresent || modelsRequired }

    /// The `qpack` executable built next to the test bundle (override with QPACK_BIN).
    public static var qpackBinary: String {
        if let p = ProcessInfo.processInfo.environment["QPACK_BIN"] { return p }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundleDir.path + "/qpack", repoRoot + "/.build/debug/qpack"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    public static func read(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Parses a committed expected-values JSON file with qpack's strict parser (exact integers).
    public static func json(_ path: String) throws -> JSONNode {
        try StrictJSONParser.parse(try read(path), maxDepth: 64)
    }
}
