package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Season detection on series generated here: a season where the series repeats, none where it does not. */
class SeasonalityTest {

    private static int detect(double[] v) {
        return Seasonality.detect(v, v.length, 1, new double[] {1.0});
    }

    @Test
    void shouldFindThePeriodOfASquareWaveAndNotAMultipleOfIt() {
        double[] v = new double[400];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i % 50) < 25 ? 1.0 : -1.0;
        }
        assertEquals(50, detect(v), "lags 100, 150 repeat as exactly as 50");
        // with a little noise, a multiple may win by a hair: the divisor is still the season
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < v.length; i++) {
            v[i] += 0.01 * RetrainingTest.gaussian(r);
        }
        assertEquals(50, detect(v));
    }

    @Test
    void shouldFindTheSeasonOfANoisySine() {
        // persistence errs by noise and slope, the value one period ago by noise alone: here by a
        // third of what persistence does (with noise as large as the steps it would be 0.9, too close)
        SplittableRandom r = new SplittableRandom(5);
        double[] v = new double[2000];
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.sin(2 * Math.PI * i / 288.0) + 0.005 * RetrainingTest.gaussian(r);
        }
        int season = detect(v);
        assertEquals(288, season, 2.0, "about a day of 5-minute events");
    }

    @Test
    void shouldFindNoSeasonInARandomWalkWhiteNoiseOrAConstant() {
        for (int seed = 0; seed < 20; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            double[] walk = new double[2000];
            double[] noise = new double[2000];
            double x = 0;
            for (int i = 0; i < walk.length; i++) {
                x += RetrainingTest.gaussian(r);
                walk[i] = x;
                noise[i] = RetrainingTest.gaussian(r);
            }
            assertEquals(0, detect(walk), "random walk, seed " + seed);
            assertEquals(0, detect(noise), "white noise, seed " + seed);
            // shorter histories (a first training) have a wider margin: selection over fewer, noisier lags
            assertEquals(0, detect(java.util.Arrays.copyOf(noise, 300)), "300 events of white noise, seed " + seed);
        }
        assertEquals(0, detect(new double[500]), "a constant: persistence is exact");
        double[] shortWave = new double[Seasonality.MIN_VALUES - 1];
        for (int i = 0; i < shortWave.length; i++) {
            shortWave[i] = i % 4 < 2 ? 1 : 0;
        }
        assertEquals(0, detect(shortWave), "too few values to judge");
    }

    @Test
    void shouldAverageStandardisedTargets() {
        // two targets: the first periodic with period 30, the second a large-scale random walk that
        // would drown it without standardisation, but whose standardised changes are small
        SplittableRandom r = new SplittableRandom(1);
        int n = 1000;
        double[] v = new double[2 * n];
        double x = 0;
        for (int i = 0; i < n; i++) {
            v[2 * i] = (i % 30) < 15 ? 1 : 0;
            x += 1000 * RetrainingTest.gaussian(r);
            v[2 * i + 1] = x;
        }
        // scale of the walk's changes is 1000 per step; at lag 30 its differences grow as sqrt(30)
        assertEquals(0, Seasonality.detect(v, n, 2, new double[] {1, 1}), "unscaled, the walk dominates");
        assertEquals(30, Seasonality.detect(v, n, 2, new double[] {1, 1e6}), "scaled, the wave's season shows");
    }
}
