import Testing

import BackpropCommandLine
@testable import backprop

/// Runs a command parsed from `arguments` and expects it to stop with a user error whose message contains
/// `fragment`: a `UserError` (exit status 2), or an argument-parsing error, which `main()` also maps to 2.
func expectUserError(_ arguments: [String], mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        var command = try BackpropCommand.parseCheckingArguments(arguments, movedSubcommands: BackpropCommand.movedSubcommands)
        try command.run()
        Issue.record("\(arguments) succeeded; expected an error mentioning '\(fragment)'", sourceLocation: sourceLocation)
    } catch let error as UserError {
        #expect(error.message.contains(fragment), "message: \(error.message)", sourceLocation: sourceLocation)
    } catch {
        let message = BackpropCommand.fullMessage(for: error)
        #expect(BackpropCommand.exitCode(for: error) != .success, sourceLocation: sourceLocation)
        #expect(message.contains(fragment), "message: \(message)", sourceLocation: sourceLocation)
    }
}
