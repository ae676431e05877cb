package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The smoothing weight's fit on series generated here: a weight where the level is noisy, none where persistence is right. */
class SmoothingTest {

    private static final double[] ONE = {1.0};

    @Test
    void shouldFitAWeightBelowOneToNoiseAroundAWanderingLevel() {
        for (long seed = 0; seed < 5; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            double[] v = new double[2000];
            double level = 0;
            for (int i = 0; i < v.length; i++) {
                level += 0.3 * RetrainingTest.gaussian(r);
                v[i] = level + RetrainingTest.gaussian(r);
            }
            // the local-level model with signal-to-noise q = 0.09 has the optimal weight
            // (-q + sqrt(q^2 + 4q)) / 2 = 0.26
            double a = Smoothing.fit(v, v.length, 1, ONE);
            assertEquals(0.26, a, 0.1, "seed " + seed);
            assertTrue(Smoothing.error(v, v.length, 1, ONE, a) < 0.85 * Smoothing.error(v, v.length, 1, ONE, 1.0),
                    "well below persistence's error, seed " + seed);
        }
    }

    @Test
    void shouldFitNoWeightWherePersistenceIsRight() {
        for (long seed = 0; seed < 20; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            double[] walk = new double[2000];
            for (int i = 1; i < walk.length; i++) {
                walk[i] = walk[i - 1] + RetrainingTest.gaussian(r);
            }
            assertEquals(0.0, Smoothing.fit(walk, walk.length, 1, ONE), 0.0, "random walk, seed " + seed);
            assertEquals(0.0, Smoothing.fit(java.util.Arrays.copyOf(walk, 300), 300, 1, ONE), 0.0,
                    "300 events of a random walk, seed " + seed);
        }
        double[] square = new double[1000];
        for (int i = 0; i < square.length; i++) {
            square[i] = (i % 50) < 25 ? 1 : 0; // the last value is right 48 times in 50
        }
        assertEquals(0.0, Smoothing.fit(square, square.length, 1, ONE), 0.0, "a square wave");
        assertEquals(0.0, Smoothing.fit(new double[500], 500, 1, ONE), 0.0, "a constant");
        assertEquals(0.0, Smoothing.fit(new double[] {1, 0, 1, 0}, 4, 1, ONE), 0.0, "too short");
    }
}
