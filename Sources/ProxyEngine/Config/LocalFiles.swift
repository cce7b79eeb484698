#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the configuration needs to know about a file before trusting it with passwords.
public struct FileStatus: Sendable, Equatable {
    public var isRegularFile: Bool
    /// The permission bits (`0o600` ...), without the file type.
    public var permissions: UInt16

    public init(isRegularFile: Bool = true, permissions: UInt16) {
        self.isRegularFile = isRegularFile
        self.permissions = permissions
    }

    /// libpq's rule for a password file: any group or other permission bit makes it ignored.
    public var hasGroupOrWorldAccess: Bool {
        self.permissions & 0o077 != 0
    }

    /// Whether someone other than the owner may read the file.
    public var isGroupOrWorldReadable: Bool {
        self.permissions & 0o044 != 0
    }
}

/// The real file system, as the configuration uses it; tests pass their own closures instead.
public enum LocalFiles {
    /// The status of `path` (following symbolic links, as libpq does), or nil when it does not exist.
    public static func status(of path: String) -> FileStatus? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return nil
        }
        return FileStatus(
            isRegularFile: info.st_mode & S_IFMT == S_IFREG,
            permissions: UInt16(truncatingIfNeeded: info.st_mode & 0o7777)
        )
    }

    /// Reads a UTF-8 text file, with an error that says why in a few words ("no such file", "permission denied").
    public static func readText(_ path: String) throws(ConfigError) -> String {
        guard let file = fopen(path, "rb") else {
            throw .cannotReadFile(path: path, reason: Self.errnoText())
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            bytes.append(contentsOf: buffer[0..<count])
            if count < buffer.count {
                if ferror(file) != 0 {
                    throw .cannotReadFile(path: path, reason: Self.errnoText())
                }
                break
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .cannotReadFile(path: path, reason: "it is not UTF-8 text")
        }
        return text
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno)).lowercased()
    }
}
