import Testing

@testable import BackpropCommandLine
import BackpropTeaching
@testable import backprop

/// What the argument parser does not check itself: an unknown subcommand is named with the nearest one
/// suggested, an option given twice is refused, and every command lists variables in the formula's order.
struct ArgumentCheckTests {
    @Test func unknownSubcommandIsNamedWithTheNearestOne() {
        expectUserError(["gradient", "x", "--at", "x=1"], mentioning: "'gradient' is not a backprop command; did you mean 'backprop grad'?")
        expectUserError(["minimise", "x^2", "--from", "x=1"], mentioning: "did you mean 'backprop minimize'?")
        expectUserError(["hesian", "x^2", "--at", "x=1"], mentioning: "did you mean 'backprop hessian'?")
        expectUserError(["frobnicate"], mentioning: "'frobnicate' is not a backprop command (commands: train, ")
        expectUserError(["bench", "mlp-step"], mentioning: "backprop-bench")
    }

    @Test func nearestNameNeedsToBeNear() {
        #expect(nearestName(to: "gradient", among: ["grad", "train"]) == "grad")
        #expect(nearestName(to: "trian", among: ["grad", "train"]) == "train")
        #expect(nearestName(to: "xyzzy", among: ["grad", "train"]) == nil)
        #expect(editDistance("kitten", "sitting") == 3 && editDistance("", "abc") == 3 && editDistance("abc", "abc") == 0)
    }

    @Test func repeatedOptionsAreRefused() {
        expectUserError(["grad", "x*y", "--at", "x=1", "--at", "y=2"], mentioning: "--at is given twice")
        expectUserError(["grad", "x*y", "--at=x=1", "--at", "y=2"], mentioning: "--at is given twice")
        expectUserError(["compare", "x", "--at", "x=1", "--digits", "3", "--digits=4"], mentioning: "--digits is given twice")
        expectUserError(["train", "--epochs", "1", "--epochs", "2"], mentioning: "--epochs is given twice")
        expectUserError(["grad", "x", "--at", "x=1", "--json", "--json"], mentioning: "--json is given twice")
    }

    @Test func argumentsAfterADoubleDashAreNotOptions() throws {
        // "--x" is the formula −(−x) here, not an option, and not a second "--x".
        var command = try BackpropCommand.parseCheckingArguments(["check", "--at", "x=1", "--", "--x"])
        try command.run()
    }

    @Test func variablesComeInTheFormulasOrderWhateverTheOrderOfAt() throws {
        let formula = try Formula(parsing: "y*exp(x) + z")
        let values = try VariableValues(parsing: "z=3,x=0,y=2")
        #expect(try formula.graph(at: values).result.variables == ["y", "x", "z"])
        #expect(try formula.gradient(at: values).gradient == [1, 2, 1])
        #expect(try formula.checkGradients(at: values).variables == ["y", "x", "z"])
        #expect(formula.hessianAnalysis(at: try values.values(for: formula)).variables == ["y", "x", "z"])
    }
}
