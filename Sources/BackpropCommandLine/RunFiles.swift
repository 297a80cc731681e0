import Foundation

/// The files one command reads and writes, checked before any work: no output may be one of the inputs
/// (`--data d.csv --save d.csv` would replace the data with a checkpoint) nor another output (`--plot X
/// --save X` would leave an SVG where the checkpoint was). Two paths are the same file when they name one
/// file by different spellings, symbolic links or hard links.
public struct RunFiles {
    /// The files read, with the flag that names each.
    private var inputs: [(flag: String, path: String)] = []
    /// The folders whose every file is read, with the flag that names each.
    private var folders: [(flag: String, path: String)] = []
    /// The files written, with the flag that names each and the input each may replace on purpose.
    private var outputs: [(flag: String, path: String, replacing: String?)] = []

    /// An empty list.
    public init() {}

    /// Records that the run reads `path` (given with `flag`).
    public mutating func reads(_ path: String, flag: String) {
        inputs.append((flag, path))
    }

    /// Records that the run reads every file in the folder `path` (given with `flag`), whatever its name: a
    /// text corpus, where a file written into the folder would be read as text by the next run, and one
    /// written over a file of it would destroy that text.
    public mutating func readsEveryFile(inFolder path: String, flag: String) {
        folders.append((flag, path))
    }

    /// Records that the run writes `path` (given with `flag`, or its default); `replacing` names the one input
    /// it may write over on purpose (a resumed checkpoint saved in place).
    public mutating func writes(_ path: String, flag: String, replacing: String? = nil) {
        outputs.append((flag, path, replacing))
    }

    /// Throws a `UserError` naming both flags when an output is an input or another output.
    public func check() throws {
        let outputIdentities = outputs.map { FileIdentity($0.path) }
        for (index, output) in outputs.enumerated() {
            let identity = outputIdentities[index]
            for input in inputs where identity == FileIdentity(input.path) {
                if let allowed = output.replacing, FileIdentity(allowed) == identity { continue }
                throw UserError("\(output.flag) \(output.path) is the file \(input.flag) reads (\(input.path)); writing it would destroy the input: choose another \(output.flag)")
            }
            for folder in folders where identity.lies(inFolder: folder.path) {
                throw UserError("\(output.flag) \(output.path) is in the folder \(folder.flag) reads (\(folder.path)), every file of which is read: writing there would destroy or add to the input; choose another \(output.flag) outside it")
            }
            for other in outputs[..<index].indices where outputIdentities[other] == identity {
                throw UserError("\(outputs[other].flag) and \(output.flag) both name \(output.path); give them different files")
            }
        }
    }
}

/// What makes two paths the same file: the device and inode of an existing file (so hard links and symbolic
/// links match), or the absolute path with its folder's symbolic links resolved for a file not yet there.
struct FileIdentity: Equatable {
    let device: UInt64?
    let inode: UInt64?
    let path: String

    init(_ path: String) {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var status = stat()
        if stat(url.path, &status) == 0 {
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
        } else {
            device = nil
            inode = nil
        }
        let folder = url.deletingLastPathComponent().resolvingSymlinksInPath()
        self.path = folder.appendingPathComponent(url.lastPathComponent).path
    }

    /// Whether the file is in `folder` or one of its subfolders (its path, folders' symbolic links resolved).
    func lies(inFolder folder: String) -> Bool {
        let resolved = URL(fileURLWithPath: folder).standardizedFileURL.resolvingSymlinksInPath().path
        return path.hasPrefix(resolved.hasSuffix("/") ? resolved : resolved + "/")
    }

    static func == (a: FileIdentity, b: FileIdentity) -> Bool {
        if let d = a.device, let i = a.inode, let e = b.device, let j = b.inode { return d == e && i == j }
        return a.path == b.path
    }
}
