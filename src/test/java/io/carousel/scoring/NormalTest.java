package io.carousel.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NormalTest {

    private static void assertRelative(double expected, double actual, double tolerance) {
        assertEquals(expected, actual, Math.abs(expected) * tolerance,
                "expected " + expected + " got " + actual);
    }

    @Test
    void shouldMatchReferenceErfcValues() {
        // Reference values from scipy.special.erfc; the far tail must stay relatively accurate.
        assertRelative(1.0, Normal.erfc(0), 2e-7);
        assertRelative(0.15729920705028516, Normal.erfc(1), 2e-7);
        assertRelative(1.8427007929497148, Normal.erfc(-1), 2e-7);
        assertRelative(1.5374597944280347e-12, Normal.erfc(5), 2e-7);
        assertRelative(2.340016720638953e-162, Normal.erfc(19.2), 2e-7);
        assertRelative(5.663192408856145e-296, Normal.erfc(26), 2e-7);
    }

    @Test
    void shouldGiveKnownTailProbabilities() {
        assertRelative(1e-4, Normal.upperTail(3.719016485455709), 1e-6);
        assertRelative(0.05, Normal.twoSidedTail(-1.959963984540054), 1e-6);
        assertRelative(0.5, Normal.upperTail(0), 1e-7);
    }

    @Test
    void shouldInvertTheCdfIncludingTheFarTail() {
        assertEquals(1.959963984540054, Normal.quantile(0.975), 1e-8);
        assertEquals(-6.361340902404056, Normal.quantile(1e-10), 1e-7);
        assertEquals(0.0, Normal.quantile(0.5), 1e-12);
        assertEquals(Double.NEGATIVE_INFINITY, Normal.quantile(0));
        assertEquals(Double.POSITIVE_INFINITY, Normal.quantile(1));
        assertEquals(-37.0470962993612, Normal.quantile(1e-300), 1e-6);
        // The scorer's use: -quantile(upper tail of z) recovers z, far into the tail. (Beyond
        // z = 5 the other way round, quantile(1 - tiny), is limited by 1 - tiny in doubles.)
        for (double z = -5; z <= 37; z += 0.25) {
            assertEquals(z, -Normal.quantile(Normal.upperTail(z)), 1e-6 * Math.max(1, Math.abs(z)),
                    "z = " + z);
        }
    }

    @Test
    void shouldBeMonotone() {
        double previous = 1;
        for (double z = -10; z <= 30; z += 0.01) {
            double q = Normal.upperTail(z);
            assertTrue(q <= previous, "upper tail increased at " + z);
            previous = q;
        }
    }
}
