package io.carousel.scoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ScorerTest {

    private static final ScoringConfig DEFAULTS = ScoringConfig.defaults();

    private static double[] gaussian(long seed, int n, double sigma) {
        Random random = new Random(seed);
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            e[i] = sigma * random.nextGaussian();
        }
        return e;
    }

    private static double[] scoreAll(Scorer scorer, ScoreState st, double[] errors) {
        double[] scores = new double[errors.length];
        for (int i = 0; i < errors.length; i++) {
            scores[i] = scorer.update(st, errors[i]);
        }
        return scores;
    }

    @Test
    void shouldScoreZeroAndNotBeWarmDuringWarmUp() {
        Scorer scorer = new Scorer(DEFAULTS);
        ScoreState st = ScoreState.initial(1);
        double[] e = gaussian(1, 400, 1);
        for (int i = 0; i < DEFAULTS.warmupEvents(); i++) {
            assertFalse(scorer.isWarm(st), "warm before event " + i);
            assertEquals(0.0, scorer.update(st, e[i]), "score during warm-up at " + i);
            assertFalse(scorer.isAnomaly(st));
        }
        assertTrue(scorer.isWarm(st));
        double first = scorer.update(st, e[DEFAULTS.warmupEvents()]);
        assertTrue(first > 0 && first < DEFAULTS.threshold(), "first warm score " + first);
    }

    @Test
    void shouldRaiseScoreForSpikeAfterStableStretch() {
        Scorer scorer = new Scorer(DEFAULTS);
        ScoreState st = ScoreState.initial(1);
        double[] scores = scoreAll(scorer, st, gaussian(2, 2000, 3.0));
        for (double s : scores) {
            assertTrue(s < DEFAULTS.threshold(), "no alarm on plain noise, got " + s);
        }
        double spike = scorer.update(st, 20 * 3.0);
        assertTrue(spike >= DEFAULTS.threshold(), "spike score " + spike);
        assertTrue(scorer.isAnomaly(st));
        assertTrue(scorer.startsAlert(st));
        assertEquals(20, scorer.deviation(st, 0), 2.5, "deviation in sigma units");
        assertTrue(Scorer.logScore(spike) > Scorer.logScore(DEFAULTS.threshold()));
    }

    @Test
    void shouldFlagOrdinaryGaussianErrorsAtAboutOneMinusThreshold() {
        Scorer scorer = new Scorer(DEFAULTS);
        ScoreState st = ScoreState.initial(1);
        double[] scores = scoreAll(scorer, st, gaussian(3, 200_000, 1));
        for (double threshold : new double[] {0.99, 0.999, 0.9999}) {
            int above = 0;
            for (int i = DEFAULTS.warmupEvents(); i < scores.length; i++) {
                above += scores[i] >= threshold ? 1 : 0;
            }
            double rate = above / (double) (scores.length - DEFAULTS.warmupEvents());
            double nominal = 1 - threshold;
            // Calibrated means near nominal, and never far above it; the 1e-4 level sees only
            // about 20 events, hence its looser bound.
            double upper = threshold == 0.9999 ? 2 * nominal : 1.25 * nominal;
            assertTrue(rate <= upper, "rate " + rate + " above " + threshold);
            assertTrue(threshold > 0.995 || rate >= 0.6 * nominal,
                    "rate " + rate + " far below nominal: not calibrated");
        }
    }

    @Test
    void shouldKeepFalseAlarmRateWithSeveralFeatures() {
        Scorer scorer = new Scorer(DEFAULTS);
        ScoreState st = ScoreState.initial(3);
        Random random = new Random(4);
        double[] e = new double[3];
        int above = 0;
        int scored = 0;
        for (int i = 0; i < 100_000; i++) {
            e[0] = random.nextGaussian();
            e[1] = 1e3 * random.nextGaussian();
            e[2] = 1e-3 * random.nextGaussian();
            double s = scorer.update(st, e);
            if (i >= DEFAULTS.warmupEvents()) {
                scored++;
                above += s >= 0.999 ? 1 : 0;
            }
        }
        assertTrue(above / (double) scored <= 1.25e-3, "multi-feature rate " + above);
    }

    @Test
    void shouldGiveTheSameScoresWhateverTheSeriesScale() {
        double[] e = gaussian(5, 3000, 1);
        e[2000] = 12;
        for (double factor : new double[] {1e6, 1e-6}) {
            Scorer scorer = new Scorer(DEFAULTS);
            ScoreState a = ScoreState.initial(1);
            ScoreState b = ScoreState.initial(1);
            for (int i = 0; i < e.length; i++) {
                double sa = scorer.update(a, e[i]);
                double sb = scorer.update(b, e[i] * factor);
                assertEquals(sa, sb, 1e-9, "score at " + i + " for factor " + factor);
            }
            assertEquals(scorer.intervalHalfWidth(a, 0) * factor, scorer.intervalHalfWidth(b, 0),
                    1e-9 * factor);
            assertEquals(scorer.deviation(a, 0), scorer.deviation(b, 0), 1e-9);
        }
    }

    @Test
    void shouldNotDivideByZeroOnConstantSeries() {
        Scorer scorer = new Scorer(DEFAULTS);
        ScoreState st = ScoreState.initial(1);
        for (int i = 0; i < 1000; i++) {
            double s = scorer.update(st, 0.0);
            assertTrue(s >= 0 && s <= 0.5, "constant series score " + s);
            assertFalse(scorer.isAnomaly(st));
        }
        assertEquals(0.0, scorer.deviation(st, 0));
        assertEquals(0.0, scorer.intervalHalfWidth(st, 0));
        ScoreState.fromBytes(st.toBytes()); // every field finite

        double change = scorer.update(st, 1.0);
        assertTrue(change >= DEFAULTS.threshold(), "first error after a constant stretch");
        assertEquals(Scorer.DEVIATION_CAP, scorer.deviation(st, 0));
        ScoreState.fromBytes(st.toBytes());

        // The series then turns noisy: the scale is relearned and the alarm ends.
        double[] scores = scoreAll(scorer, st, gaussian(6, 1000, 1));
        for (int i = 500; i < scores.length; i++) {
            assertTrue(scores[i] < DEFAULTS.threshold(), "still alarming at " + i);
        }
    }

    @Test
    void shouldRejectNonFiniteErrorsWithoutChangingState() {
        Scorer scorer = new Scorer(DEFAULTS);
        ScoreState st = ScoreState.initial(2);
        Random random = new Random(7);
        for (int i = 0; i < 500; i++) {
            scorer.update(st, new double[] {random.nextGaussian(), random.nextGaussian()});
        }
        byte[] before = st.toBytes();
        double[][] bad = {{Double.NaN, 0}, {0, Double.POSITIVE_INFINITY},
            {Double.NEGATIVE_INFINITY, Double.NaN}};
        for (double[] errors : bad) {
            assertFalse(Scorer.isAcceptable(errors));
            assertEquals(0.0, scorer.update(st, errors));
            assertArrayEquals(before, st.toBytes(), "state changed by a rejected event");
        }
        ScoreState single = ScoreState.initial(1);
        scorer.update(single, 1.0);
        byte[] singleBefore = single.toBytes();
        assertEquals(0.0, scorer.update(single, Double.NaN));
        assertArrayEquals(singleBefore, single.toBytes());
    }

    @Test
    void shouldRejectWrongFeatureCount() {
        Scorer scorer = new Scorer(DEFAULTS);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> scorer.update(ScoreState.initial(2), new double[3]));
        assertTrue(e.getMessage().contains("3 features"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> scorer.update(ScoreState.initial(2), 1.0));
    }

    @Test
    void shouldNameTheDeviatingFeature() {
        Scorer scorer = new Scorer(DEFAULTS);
        ScoreState st = ScoreState.initial(3);
        double[] scales = {1, 1000, 0.001};
        Random random = new Random(8);
        double[] e = new double[3];
        for (int i = 0; i < 1500; i++) {
            for (int j = 0; j < 3; j++) {
                e[j] = scales[j] * random.nextGaussian();
            }
            scorer.update(st, e);
        }
        e[0] = 0.1;
        e[1] = -50;
        e[2] = 0.015; // 15 sigma on the smallest-scale feature
        double s = scorer.update(st, e);
        assertTrue(s >= DEFAULTS.threshold(), "score " + s);
        assertEquals(2, scorer.mostDeviantFeature(st));
        assertEquals(15, scorer.deviation(st, 2), 2);
        assertTrue(Math.abs(scorer.deviation(st, 0)) < 1);
        assertTrue(scorer.deviation(st, 1) < 0 && scorer.deviation(st, 1) > -1);
    }

    @Test
    void shouldGiveIntervalsWithTheConfiguredCoverage() {
        Scorer scorer = new Scorer(DEFAULTS);
        ScoreState st = ScoreState.initial(1);
        double[] e = gaussian(9, 20_000, 2.0);
        int inside = 0;
        int counted = 0;
        double widths = 0;
        for (double error : e) {
            if (scorer.isWarm(st)) {
                counted++;
                double w = scorer.intervalHalfWidth(st, 0);
                widths += w;
                inside += Math.abs(error) <= w ? 1 : 0;
            }
            scorer.update(st, error);
        }
        assertEquals(0.95, inside / (double) counted, 0.01, "coverage");
        assertEquals(1.96 * 2.0, widths / counted, 0.1, "mean half-width");
        assertEquals(scorer.intervalHalfWidth(st, 0), DEFAULTS.intervalZ() * scorer.errorScale(st, 0),
                1e-12);
    }

    @Test
    void shouldStopAlertingOnBurstsThatRecur() {
        // Noise with a burst of five 8-sigma errors every 200 events: alarming at first, then
        // part of the key's normal behaviour (the tail guard).
        Scorer scorer = new Scorer(DEFAULTS);
        ScoreState st = ScoreState.initial(1);
        Random random = new Random(10);
        int alertsEarly = 0;
        int alertsLate = 0;
        for (int i = 0; i < 20_000; i++) {
            double error = random.nextGaussian();
            if (i % 200 >= 195) {
                error = (i % 2 == 0 ? 8 : -8);
            }
            scorer.update(st, error);
            if (scorer.startsAlert(st)) {
                if (i < 2000) {
                    alertsEarly++;
                } else if (i >= 10_000) {
                    alertsLate++;
                }
            }
        }
        assertTrue(alertsEarly >= 1, "the first bursts are anomalies");
        assertEquals(0, alertsLate, "recurring bursts still alarming");
    }

    @Test
    void shouldMoveThresholdWithFeedback() {
        Scorer scorer = new Scorer(DEFAULTS);
        ScoreState st = ScoreState.initial(1);
        assertEquals(0.9999, scorer.threshold(st), 1e-15);
        scorer.applyFeedback(st, true);
        assertEquals(1 - 1e-4 * Math.pow(10, -0.5), scorer.threshold(st), 1e-15);
        for (int i = 0; i < 20; i++) {
            scorer.applyFeedback(st, true);
        }
        assertEquals(1 - 1e-8, scorer.threshold(st), 1e-15, "clamped at +4 decades");
        for (int i = 0; i < 40; i++) {
            scorer.applyFeedback(st, false);
        }
        assertEquals(0.999, scorer.threshold(st), 1e-15, "clamped at -1 decade");
        assertEquals(st, ScoreState.fromBytes(st.toBytes()), "offset survives serialisation");
    }

    @Test
    void shouldApplyTheKeysThresholdWhenFlagging() {
        double[] e = gaussian(11, 1500, 1);
        e[1400] = 7.5;
        Scorer scorer = new Scorer(DEFAULTS);
        ScoreState plain = ScoreState.initial(1);
        ScoreState muted = ScoreState.initial(1);
        for (int i = 0; i < 8; i++) {
            scorer.applyFeedback(muted, true);
        }
        boolean plainFlagged = false;
        boolean mutedFlagged = false;
        for (double error : e) {
            double a = scorer.update(plain, error);
            double b = scorer.update(muted, error);
            assertEquals(a, b, "feedback changes the threshold, not the score");
            plainFlagged |= scorer.isAnomaly(plain);
            mutedFlagged |= scorer.isAnomaly(muted);
        }
        assertTrue(plainFlagged);
        assertFalse(mutedFlagged);
    }

    @Test
    void shouldBeDeterministicAndNeverNaN() {
        double[] e = gaussian(12, 5000, 1);
        e[3000] = 1e300;
        e[3001] = -1e-300;
        Scorer scorer = new Scorer(DEFAULTS);
        ScoreState a = ScoreState.initial(1);
        ScoreState b = ScoreState.initial(1);
        double[] sa = scoreAll(scorer, a, e);
        double[] sb = scoreAll(new Scorer(DEFAULTS), b, e);
        assertArrayEquals(sa, sb);
        assertEquals(a, b);
        for (double s : sa) {
            assertTrue(s >= 0 && s <= 1, "score " + s);
        }
        ScoreState.fromBytes(a.toBytes());
    }

    @Test
    void shouldMapLikelihoodToNumentasLogScale() {
        assertEquals(0.0, Scorer.logScore(0), 1e-9);
        assertEquals(0.0301, Scorer.logScore(0.5), 1e-4);
        assertEquals(0.4, Scorer.logScore(0.9999), 1e-6);
        assertEquals(1.0, Scorer.logScore(1), 1e-8);
        assertTrue(Scorer.logScore(1 - 1e-12) > 0.999);
        assertEquals(0.0, Scorer.logScore(-1));
    }
}
