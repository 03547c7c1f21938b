import ArgumentParser

@main
struct Gauntlet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gauntlet",
        abstract: "Adversarial attacks on the observations of reinforcement-learning agents.",
        discussion: """
            Exit codes: 0 success, 1 a check failed, 2 bad input.
            """,
        version: GauntletVersion.string,
        subcommands: [Bench.self])
}

enum GauntletVersion {
    static let string = "0.1.0"
}
