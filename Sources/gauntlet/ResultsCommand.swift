import ArgumentParser
import Evaluation
import Foundation
import Linalg
import Synchronization

struct Results: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Query and merge results databases.", subcommands: [ResultsQuery.self, ResultsMerge.self, ResultsImport.self])
}

struct ResultsQuery: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query", abstract: "Print stored cells as a table, CSV or JSON.")

    @Option(help: "Results database.") var db: String
    @Option(help: "table, csv or json.") var format = "table"
    @Option(help: "Only policies whose path contains this.") var policy: String?
    @Option(help: "Only attacks whose spec contains this.") var attack: String?

    func validate() throws {
        guard ["table", "csv", "json"].contains(format) else { throw ValidationError("--format must be table, csv or json") }
        guard FileManager.default.fileExists(atPath: db) else { throw ValidationError("--db \(db): no such file") }
    }

    func run() throws {
        let rows: [ResultsStore.Row]
        do { rows = try ResultsStore(path: db).rows(policy: policy, attack: attack) } catch {
            throw ValidationError("--db \(db): \(error)")
        }
        switch format {
        case "json":
            try printJSON(["cells": rows])
        case "csv":
            print(
                "policy,environment,attack,epsilon,norm,units,seed,episodes,clean_mean,attacked_mean,drop_mean,drop_low,drop_high,flip_rate,queries"
            )
            for r in rows {
                print(
                    [
                        r.policy, r.environment, "\"\(r.attack)\"", "\(r.epsilon)", r.norm, r.units, "\(r.seed)", "\(r.episodes)",
                        "\(r.cleanMean)",
                        "\(r.attackedMean)", "\(r.dropMean)", "\(r.dropLow)", "\(r.dropHigh)", "\(r.flipRate)", "\(r.queries)",
                    ].joined(separator: ","))
            }
        default:
            print("| policy | attack | ε | seed | clean | attacked | drop [95% CI] | flips |")
            print("|---|---|---|---|---|---|---|---|")
            for r in rows {
                print(
                    String(
                        format: "| %@ | %@ | %g | %lld | %.1f | %.1f | %.1f [%.1f, %.1f] | %.1f%% |", r.policy, r.attack,
                        r.epsilon, r.seed,
                        r.cleanMean, r.attackedMean, r.dropMean, r.dropLow, r.dropHigh, 100 * r.flipRate))
            }
        }
    }
}

struct ResultsMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge shard databases into one (idempotent; refuses databases of another spec).")

    @Option(help: "Database to merge into (created if missing).") var db: String
    @Argument(help: "Shard databases.") var inputs: [String]

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one database to merge") }
        for input in inputs where !FileManager.default.fileExists(atPath: input) {
            throw ValidationError("\(input): no such file")
        }
    }

    func run() throws {
        do {
            let store = try ResultsStore(path: db)
            for input in inputs { try store.merge(from: input) }
            print("merged \(inputs.count) database(s) into \(db): \(try store.rows().count) cells")
            for warning in try store.refreshWarnings() { print(warning.description) }
        } catch let error as SweepError {
            throw ValidationError(error.description)
        }
    }
}

struct ResultsImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store `gauntlet attack --json` outputs as cells of a results database (for `gauntlet report`).",
        discussion: """
            Each attack of a run becomes the cell a sweep would have written for it (policy, attack, ε, norm, \
            units, seed, episodes, precision), replacing a stored cell of the same key — so attacks a sweep \
            cannot express, such as adversaries trained against one policy, sit beside sweep cells in one report.
            """)

    @Option(help: "Database to store into (created if missing).") var db: String
    @Argument(help: "JSON files written by `gauntlet attack --json`.") var inputs: [String]

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one JSON file to import") }
    }

    func run() throws {
        do {
            let runs = try inputs.map { path throws(SweepError) in try AttackRun(contentsOf: path) }
            let store = try ResultsStore(path: db)
            let (count, warnings) = try store.store(runs)
            print("imported \(count) cell(s) from \(inputs.count) file(s) into \(db): \(try store.rows().count) cells")
            for warning in warnings { print(warning.description) }
        } catch let error as SweepError {
            throw ValidationError(error.description)
        }
    }
}
