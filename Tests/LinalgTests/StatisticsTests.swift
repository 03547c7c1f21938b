import Linalg
import TestSupport
import Testing

struct StatisticsFixture: Decodable {
    struct Rate: Decodable {
        var successes: Int
        var trials: Int
        var confidence: Double
        var wilson: [Double]
        var clopper_pearson: [Double]
    }
    var sample: [Double]
    var mean: Double
    var sd: Double
    var quantiles: [String: Double]
    var rates: [Rate]
}

/// Expected values come from NumPy and SciPy (`Tests/Fixtures/make_fixtures.py`).
@Suite struct StatisticsTests {
    let fixture: StatisticsFixture = try! loadFixture("statistics.json")

    @Test func descriptiveStatisticsMatchNumPy() {
        #expect(abs(Statistics.mean(fixture.sample) - fixture.mean) < 1e-14)
        #expect(abs(Statistics.standardDeviation(fixture.sample) - fixture.sd) < 1e-14)
        for (q, expected) in fixture.quantiles {
            #expect(abs(Statistics.quantile(fixture.sample, Double(q)!) - expected) < 1e-14)
        }
        #expect(Statistics.sorted(fixture.sample) == fixture.sample.sorted())
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.mean([]).isNaN)
    }

    @Test func rateIntervalsMatchSciPy() {
        for rate in fixture.rates {
            let wilson = ConfidenceInterval.wilson(successes: rate.successes, trials: rate.trials, confidence: rate.confidence)
            #expect(abs(wilson.lower - rate.wilson[0]) < 1e-12 && abs(wilson.upper - rate.wilson[1]) < 1e-12)
            let exact = ConfidenceInterval.clopperPearson(
                successes: rate.successes, trials: rate.trials, confidence: rate.confidence)
            #expect(abs(exact.lower - rate.clopper_pearson[0]) < 1e-9 && abs(exact.upper - rate.clopper_pearson[1]) < 1e-9)
        }
        // Where gsl_cdf_beta_Pinv fails to converge and aborts (randomised smoothing's sample
        // sizes); the values are scipy.stats.beta.ppf(0.001, 19990, 11) and ppf(0.999, 19991, 10).
        let large = ConfidenceInterval.clopperPearson(successes: 19_990, trials: 20_000, confidence: 0.998)
        #expect(abs(large.lower - 0.9987937277791431) < 1e-9 && abs(large.upper - 0.9998519516263167) < 1e-9)
    }

    /// A 95% bootstrap interval for a mean should cover the true mean in roughly 95% of samples
    /// (percentile bootstrap undercovers a little at n = 30).
    @Test func bootstrapMeanIntervalCoversTheTrueMean() {
        let random = RandomStream(seed: 17)
        var covered = 0
        let trials = 300
        for _ in 0..<trials {
            let sample = (0..<30).map { _ in random.normal(mean: 5, standardDeviation: 2) }
            let interval = ConfidenceInterval.bootstrapMean(sample, resamples: 1000, random: random)
            if interval.contains(5) { covered += 1 }
        }
        let coverage = Double(covered) / Double(trials)
        #expect(coverage > 0.88 && coverage < 0.99)
    }

    /// Pairing removes the shared per-episode variation: the paired interval is much narrower
    /// than the one a mean of independent differences would need, and centred on the true shift.
    @Test func pairedDifferenceIntervalUsesThePairing() {
        let random = RandomStream(seed: 4)
        let shared = (0..<200).map { _ in random.normal(standardDeviation: 50) }
        let clean = shared.map { $0 + 100 }
        let attacked = shared.map { $0 + 90 + random.normal(standardDeviation: 1) }
        let paired = ConfidenceInterval.bootstrapPairedDifference(clean, attacked, resamples: 2000, random: random)
        #expect(paired.contains(10))
        #expect(paired.upper - paired.lower < 0.5)
    }
}
