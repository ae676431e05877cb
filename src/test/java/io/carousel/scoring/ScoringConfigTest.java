package io.carousel.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class ScoringConfigTest {

    private static final ScoringConfig D = ScoringConfig.defaults();

    private static void assertRejected(String argument, Supplier<ScoringConfig> build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::get);
        assertTrue(e.getMessage().contains(argument),
                "message should name " + argument + ": " + e.getMessage());
    }

    @Test
    void shouldHaveDocumentedDefaults() {
        assertEquals(300, D.warmupEvents());
        assertEquals(3.5, D.shortHalfLife());
        assertEquals(50, D.scaleHalfLife());
        assertEquals(3000, D.longHalfLife());
        assertEquals(0.9999, D.threshold());
        assertEquals(0.95, D.intervalCoverage());
        assertEquals(75, D.scaleWarmupEvents());
        assertEquals(1.959964, D.intervalZ(), 1e-6);
    }

    @Test
    void shouldConvertHalfLivesToWeights() {
        double alpha = ScoringConfig.alpha(3.5);
        assertEquals(0.5, Math.pow(1 - alpha, 3.5), 1e-12, "weight halves after a half-life");
        assertEquals(0.5, ScoringConfig.alpha(1), 1e-15);
    }

    @Test
    void shouldRejectBadArgumentsNamingThem() {
        assertRejected("warmupEvents", () -> D.withWarmupEvents(7));
        assertRejected("shortHalfLife", () -> D.withShortHalfLife(0.1));
        assertRejected("shortHalfLife", () -> D.withShortHalfLife(Double.NaN));
        assertRejected("scaleHalfLife", () -> D.withScaleHalfLife(Double.POSITIVE_INFINITY));
        assertRejected("longHalfLife", () -> D.withLongHalfLife(-1));
        assertRejected("scaleHalfLife", () -> D.withShortHalfLife(60));
        assertRejected("longHalfLife", () -> D.withShortHalfLife(40).withScaleHalfLife(100)
                .withLongHalfLife(30));
        assertRejected("threshold", () -> D.withThreshold(1));
        assertRejected("threshold", () -> D.withThreshold(Double.NaN));
        assertRejected("intervalCoverage", () -> D.withIntervalCoverage(0));
    }

    @Test
    void shouldChangeOneFieldPerWither() {
        ScoringConfig c = D.withWarmupEvents(100).withThreshold(0.999).withIntervalCoverage(0.8);
        assertEquals(100, c.warmupEvents());
        assertEquals(0.999, c.threshold());
        assertEquals(0.8, c.intervalCoverage());
        assertEquals(D.shortHalfLife(), c.shortHalfLife());
        assertEquals(1.281552, c.intervalZ(), 1e-6);
    }
}
