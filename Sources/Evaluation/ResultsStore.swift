import Agents
import Foundation
import GRDB
import Linalg

/// The results database of sweeps (SQLite through GRDB). Schema (migrations "v1", "v2"):
///
/// - `sweeps(name, spec_hash, spec, gauntlet_version, created)` — the specs whose cells are here;
/// - `cells(key PRIMARY KEY, policy, environment, attack, epsilon, norm, units, seed, episodes,
///   clean_mean, attacked_mean, drop_mean, drop_low, drop_high, flip_rate, flip_low, flip_high,
///   queries, report, precision)` — one row per finished cell, `report` its full JSON,
///   `precision` f32 or f64 (v2; cells stored before it are f32);
/// - `episodes(cell_key, episode, seed, clean_return, attacked_return)` — per-episode returns;
/// - `warnings(cell_key, check, message)` — sanity warnings.
///
/// A cell and its episodes are written in one transaction, so a killed sweep leaves every cell
/// either complete or absent.
public final class ResultsStore: Sendable {
    public let database: DatabaseQueue

    public init(path: String) throws {
        database = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "sweeps") { t in
                t.column("name", .text).notNull()
                t.column("spec_hash", .text).notNull().primaryKey()
                t.column("spec", .text).notNull()
                t.column("gauntlet_version", .text).notNull()
                t.column("created", .text).notNull()
            }
            try db.create(table: "cells") { t in
                t.column("key", .text).notNull().primaryKey()
                t.column("policy", .text).notNull().indexed()
                t.column("environment", .text).notNull()
                t.column("attack", .text).notNull().indexed()
                t.column("epsilon", .double).notNull()
                t.column("norm", .text).notNull()
                t.column("units", .text).notNull()
                t.column("seed", .integer).notNull()
                t.column("episodes", .integer).notNull()
                t.column("clean_mean", .double).notNull()
                t.column("attacked_mean", .double).notNull()
                t.column("drop_mean", .double).notNull()
                t.column("drop_low", .double).notNull()
                t.column("drop_high", .double).notNull()
                t.column("flip_rate", .double).notNull()
                t.column("flip_low", .double).notNull()
                t.column("flip_high", .double).notNull()
                t.column("queries", .integer).notNull()
                t.column("report", .text).notNull()
            }
            try db.create(table: "episodes") { t in
                t.column("cell_key", .text).notNull().references("cells", onDelete: .cascade).indexed()
                t.column("episode", .integer).notNull()
                t.column("seed", .integer).notNull()
                t.column("clean_return", .double).notNull()
                t.column("attacked_return", .double).notNull()
                t.primaryKey(["cell_key", "episode"])
            }
            try db.create(table: "warnings") { t in
                t.column("cell_key", .text).notNull().references("cells", onDelete: .cascade).indexed()
                t.column("check", .text).notNull()
                t.column("message", .text).notNull()
            }
        }
        migrator.registerMigration("v2") { db in
            try db.alter(table: "cells") { t in t.add(column: "precision", .text).notNull().defaults(to: "f32") }
        }
        try migrator.migrate(database)
    }

    /// Records a sweep spec (idempotent).
    public func register(_ spec: SweepSpec) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO sweeps (name, spec_hash, spec, gauntlet_version, created) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    spec.name, FNV1a.hex(spec.text), spec.text, Agents.Gauntlet.version,
                    ISO8601DateFormatter().string(from: Date()),
                ])
        }
    }

    /// Keys of the cells already stored.
    public func finishedKeys() throws -> Set<String> {
        try database.read { db in Set(try String.fetchAll(db, sql: "SELECT key FROM cells")) }
    }

    /// Stores one finished cell with its episodes, atomically.
    public func store(_ cell: SweepSpec.Cell, environment: String, report: AttackReport) throws {
        let encoder = JSONEncoder.gauntlet()
        let json = String(decoding: try encoder.encode(report), as: UTF8.self)
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO cells (key, policy, environment, attack, epsilon, norm, units, seed, episodes, clean_mean, attacked_mean,
                        drop_mean, drop_low, drop_high, flip_rate, flip_low, flip_high, queries, report, precision)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    cell.key, cell.policy, environment, cell.attack, cell.epsilon, cell.norm.rawValue, cell.units.rawValue,
                    Int64(cell.seed), cell.episodes, report.clean.meanReturn, report.attacked.meanReturn, report.rewardDrop.mean,
                    report.rewardDrop.ci95[0], report.rewardDrop.ci95[1], report.actionFlipRate.value,
                    report.actionFlipRate.ci95[0],
                    report.actionFlipRate.ci95[1], report.queries, json, cell.precision.rawValue,
                ])
            try db.execute(sql: "DELETE FROM episodes WHERE cell_key = ?", arguments: [cell.key])
            for (e, (clean, attacked)) in zip(report.clean.returns, report.attacked.returns).enumerated() {
                try db.execute(
                    sql: "INSERT INTO episodes (cell_key, episode, seed, clean_return, attacked_return) VALUES (?, ?, ?, ?, ?)",
                    arguments: [cell.key, e, Int64(cell.seed) + Int64(e), clean, attacked])
            }
        }
    }

    /// Stores every attack of `gauntlet attack` runs as cells (replacing cells of the same keys),
    /// then recomputes the sanity warnings over the whole database; returns the number of cells
    /// stored and the warnings.
    @discardableResult
    public func store(_ runs: [AttackRun]) throws -> (cells: Int, warnings: [SanityWarning]) {
        var count = 0
        for run in runs {
            for (cell, report) in run.cells { try store(cell, environment: run.environment, report: report) }
            count += run.attacks.count
        }
        return (count, try refreshWarnings())
    }

    /// Every stored report with its cell key, grouped by policy and seed (the unit sanity checks
    /// compare across attacks and ε).
    public func reportsByPolicyAndSeed() throws -> [[(key: String, report: AttackReport)]] {
        let decoder = JSONDecoder.gauntlet()
        let rows = try database.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT key, policy, seed, report FROM cells ORDER BY policy, seed, key")
        }
        var groups: [String: [(key: String, report: AttackReport)]] = [:]
        for row in rows {
            let report = try decoder.decode(AttackReport.self, from: Data((row["report"] as String).utf8))
            groups["\(row["policy"] as String)|\(row["seed"] as Int64)", default: []].append((row["key"], report))
        }
        return groups.keys.sorted().map { groups[$0]! }
    }

    /// Recomputes and stores the sanity warnings of every policy and seed; returns them, each
    /// naming its policy and seed.
    @discardableResult
    public func refreshWarnings() throws -> [SanityWarning] {
        var all: [(cellKey: String, warning: SanityWarning)] = []
        let policies = try database.read { db in
            Dictionary(
                try GRDB.Row.fetchAll(db, sql: "SELECT key, policy, seed FROM cells").map {
                    ($0["key"] as String, "\($0["policy"] as String) (seed \($0["seed"] as Int64))")
                }, uniquingKeysWith: { first, _ in first })
        }
        for group in try reportsByPolicyAndSeed() {
            for warning in SanityChecks.run(group.map(\.report)) {
                let key = group.first { warning.message.contains($0.report.attack) }?.key ?? group[0].key
                all.append((key, SanityWarning(check: warning.check, message: "\(policies[key] ?? "?"): \(warning.message)")))
            }
        }
        try replaceWarnings(with: all)
        return all.map(\.warning)
    }

    /// Replaces every stored warning with `warnings`.
    public func replaceWarnings(with warnings: [(cellKey: String, warning: SanityWarning)]) throws {
        try database.write { db in try db.execute(sql: "DELETE FROM warnings") }
        try store(warnings: warnings)
    }

    /// Stores sanity warnings for the cells they name.
    public func store(warnings: [(cellKey: String, warning: SanityWarning)]) throws {
        try database.write { db in
            for (key, warning) in warnings {
                try db.execute(
                    sql: "INSERT INTO warnings (cell_key, \"check\", message) VALUES (?, ?, ?)",
                    arguments: [key, warning.check.rawValue, warning.message])
            }
        }
    }

    /// The spec hashes recorded in this database.
    public func specHashes() throws -> Set<String> {
        try database.read { db in Set(try String.fetchAll(db, sql: "SELECT spec_hash FROM sweeps")) }
    }

    /// Copies every sweep, cell and episode of the database at `path` into this one, then
    /// recomputes the sanity warnings over everything now held (a shard's own warnings saw only
    /// its part of each policy's cells). Idempotent (cells already present are kept); refuses a
    /// database from another spec.
    public func merge(from path: String) throws {
        let other = try ResultsStore(path: path)
        let theirs = try other.specHashes()
        let ours = try specHashes()
        if !ours.isEmpty && !theirs.isEmpty && ours != theirs {
            throw SweepError(
                "\(path) holds results of another sweep spec (\(theirs.sorted().joined(separator: ", ")) vs \(ours.sorted().joined(separator: ", "))); refusing to merge"
            )
        }
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS other", arguments: [path])
            defer { try? db.execute(sql: "DETACH DATABASE other") }
            try db.inTransaction {
                try db.execute(sql: "INSERT OR IGNORE INTO sweeps SELECT * FROM other.sweeps")
                let fresh = try String.fetchAll(
                    db, sql: "SELECT key FROM other.cells WHERE key NOT IN (SELECT key FROM main.cells)")
                try db.execute(sql: "INSERT OR IGNORE INTO cells SELECT * FROM other.cells")
                for key in fresh {
                    try db.execute(sql: "INSERT INTO episodes SELECT * FROM other.episodes WHERE cell_key = ?", arguments: [key])
                }
                return .commit
            }
        }
        try refreshWarnings()
    }

    /// One row of `cells` for queries and reports.
    public struct Row: Sendable, Codable, Equatable {
        public var policy: String
        public var environment: String
        public var attack: String
        public var epsilon: Double
        public var norm: String
        public var units: String
        public var seed: Int64
        public var episodes: Int
        public var cleanMean: Double
        public var attackedMean: Double
        public var dropMean: Double
        public var dropLow: Double
        public var dropHigh: Double
        public var flipRate: Double
        public var queries: Int
    }

    /// Stored cells, optionally filtered by policy and attack substrings, ordered by policy,
    /// attack and ε.
    public func rows(policy: String? = nil, attack: String? = nil) throws -> [Row] {
        try database.read { db in
            let rows = try GRDB.Row.fetchAll(
                db,
                sql: """
                    SELECT policy, environment, attack, epsilon, norm, units, seed, episodes, clean_mean, attacked_mean, drop_mean,
                           drop_low, drop_high, flip_rate, queries
                    FROM cells WHERE policy LIKE ? AND attack LIKE ? ORDER BY policy, attack, epsilon, seed
                    """, arguments: ["%\(policy ?? "")%", "%\(attack ?? "")%"])
            return rows.map { r in
                Row(
                    policy: r["policy"], environment: r["environment"], attack: r["attack"], epsilon: r["epsilon"],
                    norm: r["norm"],
                    units: r["units"], seed: r["seed"], episodes: r["episodes"], cleanMean: r["clean_mean"],
                    attackedMean: r["attacked_mean"],
                    dropMean: r["drop_mean"], dropLow: r["drop_low"], dropHigh: r["drop_high"], flipRate: r["flip_rate"],
                    queries: r["queries"])
            }
        }
    }
}
