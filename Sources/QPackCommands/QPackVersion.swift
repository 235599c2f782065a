import CQPackRuntime

enum QPackVersion {
    static let string = "0.1.0"

    /// Versions of the system libraries qpack links, as they report themselves at run time.
    static var libraries: [(name: String, version: String)] {
        [("libzstd", String(cString: qp_zstd_version())), ("json-c", String(cString: qp_json_c_version()))]
    }
}
