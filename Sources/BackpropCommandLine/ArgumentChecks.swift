import ArgumentParser

extension ParsableCommand {
    /// Parses `arguments` (nil: the process's) as this root command, as `parseAsRoot` does, after two checks
    /// the parser does not make:
    ///
    /// - an unknown subcommand is named, with the nearest known one suggested (the parser would report the
    ///   first option it cannot place instead: `backprop gradient "x" --at x=1` said "Unknown option '--at'");
    /// - an option or flag given twice is refused (the parser keeps the last value silently). None of the
    ///   tools' options takes several values; a bare `--` ends the options, so formulas and files after it
    ///   may look like options.
    ///
    /// - Parameters:
    ///   - arguments: the arguments after the tool's name.
    ///   - movedSubcommands: subcommands that no longer exist, each with a sentence saying where they went.
    /// - Throws: `UserError` for the cases above, and the parser's own errors.
    public static func parseCheckingArguments(
        _ arguments: [String]? = nil, movedSubcommands: [String: String] = [:]
    ) throws -> ParsableCommand {
        let arguments = arguments ?? Array(CommandLine.arguments.dropFirst())
        try checkSubcommand(arguments, movedSubcommands: movedSubcommands)
        try checkNoRepeatedOption(arguments)
        return try parseAsRoot(arguments)
    }

    /// Throws a `UserError` when the first argument should name a subcommand and names none.
    static func checkSubcommand(_ arguments: [String], movedSubcommands: [String: String]) throws {
        let subcommands = configuration.subcommands
        guard !subcommands.isEmpty, configuration.defaultSubcommand == nil,
              let first = arguments.first, !first.hasPrefix("-") else { return }
        let names = subcommands.map { $0._commandName }
        guard !names.contains(first), first != "help" else { return }
        let tool = _commandName
        if let whereItWent = movedSubcommands[first] {
            throw UserError("'\(tool) \(first)' no longer exists: \(whereItWent)")
        }
        var message = "'\(first)' is not a \(tool) command"
        if let nearest = nearestName(to: first, among: names) {
            message += "; did you mean '\(tool) \(nearest)'?"
        }
        throw UserError(message + " (commands: \(names.joined(separator: ", ")); '\(tool) --help' explains them)")
    }

    /// Throws a `UserError` naming the first option (`--name` or `--name=value`) given more than once before
    /// a bare `--`.
    static func checkNoRepeatedOption(_ arguments: [String]) throws {
        var seen = Set<String>()
        for argument in arguments {
            if argument == "--" { break }
            guard argument.hasPrefix("--"), argument.count > 2 else { continue }
            let name = String(argument.prefix { $0 != "=" })
            guard seen.insert(name).inserted else {
                throw UserError("\(name) is given twice; give it once (for several variables, one list: --at x=1,y=2)")
            }
        }
    }
}

/// The name among `names` that `word` most likely meant: one that begins the word or that the word
/// begins ("gradient" → "grad"), else the one fewest single-character edits away, if that is at most a
/// third of the word's length (rounded up); nil when none is close.
func nearestName(to word: String, among names: [String]) -> String? {
    let prefixed = names.filter { word.hasPrefix($0) || $0.hasPrefix(word) }
    if let best = prefixed.min(by: { abs($0.count - word.count) < abs($1.count - word.count) }) { return best }
    let scored = names.map { (name: $0, distance: editDistance(word, $0)) }
    guard let best = scored.min(by: { $0.distance < $1.distance }),
          best.distance <= (word.count + 2) / 3 else { return nil }
    return best.name
}

/// The Levenshtein distance between `a` and `b`: the fewest insertions, deletions and substitutions of
/// single characters that turn one into the other.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + [Int](repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
