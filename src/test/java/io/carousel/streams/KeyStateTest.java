package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carousel.scoring.ScoreState;
import org.junit.jupiter.api.Test;

class KeyStateTest {

    @Test
    void shouldRoundTripEveryField() {
        KeyState k = new KeyState(3, 2, 2 * 2 * 32, ScoreState.initial(2));
        k.modelVersion = 7;
        k.count = 123_456_789_012L;
        k.lastTimestamp = 1_700_000_000_123L;
        k.meanInterval = 60_000.5;
        k.last[2] = -4.25;
        k.mean[1] = 1e300;
        k.var[0] = Double.MIN_VALUE;
        k.forecast[1] = 3.5;
        k.forecastSource = KeyState.LSTM;
        k.hc[100] = -0.75f;
        k.lastScore = 0.999;
        k.eventsSinceTrain = 17;
        k.lastTrainedAt = 1_600_000_000_000L;
        k.trainMse = 0.25;
        k.driftSum = -3;
        k.driftMin = -4;
        byte[] bytes = k.serialise();
        assertEquals(k.serialisedSize(), bytes.length);
        KeyState back = KeyState.deserialise(bytes);
        assertArrayEquals(bytes, back.serialise());
        assertEquals(Double.NaN, back.forecast[0]);
        assertEquals(3.5, back.forecast[1]);
        assertEquals(-0.75f, back.hc[100]);
        assertEquals(k.score, back.score);
        assertEquals(17, back.eventsSinceTrain);
        assertEquals(-4, back.driftMin);
    }

    /** Reading into a state that held another key's leaves nothing of that key's: every field is read. */
    @Test
    void shouldReadIntoAUsedStateAsIntoANewOne() throws Exception {
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        KeyState into = null;
        io.carousel.scoring.Scorer scorer = new io.carousel.scoring.Scorer(io.carousel.scoring.ScoringConfig.defaults());
        for (int i = 0; i < 50; i++) {
            KeyState k = randomised(new KeyState(2, 1, 64, ScoreState.initial(1)), r);
            for (int e = r.nextInt(1, 400); e > 0; e--) { // a score state of its own (the reused one is read into)
                scorer.update(k.score, r.nextGaussian() * (1 + r.nextInt(5)));
            }
            byte[] bytes = k.serialise();
            KeyState fresh = KeyState.deserialise(bytes);
            KeyState reused = KeyState.deserialise(bytes, into);
            if (into != null) {
                assertTrue(reused == into, "a current-format record of the same sizes is read into the given state");
            }
            for (java.lang.reflect.Field f : instanceFields()) {
                Object a = f.get(fresh);
                Object b = f.get(reused);
                if (a instanceof double[] x) {
                    assertArrayEquals(x, (double[]) b, f.getName());
                } else if (a instanceof float[] x) {
                    assertArrayEquals(x, (float[]) b, f.getName());
                } else {
                    assertEquals(a, b, f.getName());
                }
            }
            into = randomised(reused, r); // the next record is read into a state full of other values
        }
        byte[] format3 = new KeyState(2, 1, 64, ScoreState.initial(1)).serialise();
        format3[0] = KeyState.FORMAT_3;
        format3 = java.util.Arrays.copyOf(format3, format3.length - KeyState.format4Extra(1));
        assertTrue(KeyState.deserialise(format3, into) != into, "an older record is read into a new state");
    }

    /** KeyState's instance fields, accessible. */
    private static java.util.List<java.lang.reflect.Field> instanceFields() {
        java.util.List<java.lang.reflect.Field> fields = new java.util.ArrayList<>();
        for (java.lang.reflect.Field f : KeyState.class.getDeclaredFields()) {
            if (!java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
                f.setAccessible(true);
                fields.add(f);
            }
        }
        return fields;
    }

    /** Every field of {@code k} set to a random value that survives a round trip. */
    private static KeyState randomised(KeyState k, java.util.SplittableRandom r) throws Exception {
        for (java.lang.reflect.Field f : instanceFields()) {
            Class<?> t = f.getType();
            Object v = f.get(k);
            if (v instanceof double[] a) {
                for (int i = 0; i < a.length; i++) {
                    a[i] = r.nextGaussian();
                }
            } else if (v instanceof float[] a) {
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) r.nextGaussian();
                }
            } else if (t == long.class) {
                f.setLong(k, r.nextLong());
            } else if (t == double.class) {
                f.setDouble(k, r.nextGaussian());
            } else if (t == int.class) {
                f.setInt(k, r.nextInt(1000));
            } else if (t == byte.class) {
                f.setByte(k, (byte) r.nextInt(KeyState.SMOOTHED + 1)); // the source codes
            } else if (t == boolean.class) {
                f.setBoolean(k, r.nextBoolean());
            } else if (t == String.class) {
                f.set(k, r.nextBoolean() ? null : "group-" + r.nextInt(100));
            }
        }
        return k;
    }

    @Test
    void shouldRejectEveryTruncationOfARecordAsIllegalNotAnotherException() {
        KeyState k = new KeyState(2, 2, 2 * 2 * 8, ScoreState.initial(2));
        k.group = "pumps";
        byte[] bytes = k.serialise();
        for (int n = 0; n < bytes.length; n++) {
            byte[] cut = java.util.Arrays.copyOf(bytes, n);
            assertThrows(IllegalArgumentException.class, () -> KeyState.deserialise(cut), n + " of " + bytes.length + " bytes");
        }
        assertEquals("pumps", KeyState.deserialise(bytes).group);
    }

    @Test
    void shouldRejectAnUnknownFormatAndTrailingBytes() {
        byte[] bytes = new KeyState(1, 1, 64, ScoreState.initial(1)).serialise();
        bytes[0] = 9;
        assertThrows(IllegalArgumentException.class, () -> KeyState.deserialise(bytes));
        byte[] longer = java.util.Arrays.copyOf(new KeyState(1, 1, 64, ScoreState.initial(1)).serialise(), bytes.length + 1);
        assertThrows(IllegalArgumentException.class, () -> KeyState.deserialise(longer));
    }

    @Test
    void shouldTakeThisManyBytesPerKeyAtHidden32() {
        // one feature, one output, 1 layer of 32: h and c as floats dominate
        int bytes = new KeyState(1, 1, 2 * 32, ScoreState.initial(1)).serialisedSize();
        // format 3: the LSTM's own forecast and the mean square change (8 each per target), two
        // recent errors and the events behind them, the source; format 4: the season, the seasonal
        // forecast (8 per target) and its recent error, the smoothing weight, the level (8 per
        // target) and its recent error
        assertEquals(1 + 32 + 8 + 32 + 1 + 256 + ScoreState.byteSize(1) + 8 + 40 + 50 + (16 + 24 + 1) + (4 + 8 + 8)
                + (8 + 8 + 8), bytes);
    }

    @Test
    void shouldRoundTripTheFeedbackAndAnomalyFieldsOfFormat2() {
        KeyState k = new KeyState(1, 1, 64, ScoreState.initial(1));
        k.count = 500;
        k.anomalies = 3;
        k.lastAnomalyAt = 1_700_000_000_000L;
        k.lastAnomalyCount = 450;
        k.falsePositives = 2;
        k.missedAnomalies = 1;
        k.lastControlOffset = 42;
        k.group = "pumps-é";
        byte[] bytes = k.serialise();
        assertEquals(KeyState.FORMAT, bytes[0]);
        KeyState back = KeyState.deserialise(bytes);
        assertArrayEquals(bytes, back.serialise());
        assertEquals(3, back.anomalies());
        assertEquals(1_700_000_000_000L, back.lastAnomalyAt());
        assertEquals(2, back.falsePositives());
        assertEquals(1, back.missedAnomalies());
        assertEquals(42, back.lastControlOffset());
        assertEquals("pumps-é", back.group());
        assertEquals(true, back.anomalous(), "flagged 50 events ago");
        back.count = 550;
        assertEquals(false, back.anomalous(), "flagged " + KeyState.ANOMALOUS_EVENTS + " events ago");
    }

    /** Format 1, as the previous build wrote it: the format 2 fields read as "nothing yet". */
    @Test
    void shouldReadFormat1() {
        KeyState k = new KeyState(2, 1, 64, ScoreState.initial(1));
        k.modelVersion = 3;
        k.count = 77;
        k.lastTimestamp = 123_456L;
        k.forecast[0] = 1.5;
        k.hc[5] = 0.25f;
        k.driftMin = -2;
        byte[] v2 = k.serialise();
        byte[] v1 = java.util.Arrays.copyOf(v2, v2.length - KeyState.FORMAT_2_EXTRA - KeyState.format3Extra(1)
                - KeyState.format4Extra(1));
        v1[0] = KeyState.FORMAT_1;
        KeyState back = KeyState.deserialise(v1);
        assertEquals(3, back.modelVersion());
        assertEquals(77, back.count());
        assertEquals(123_456L, back.lastTimestamp());
        assertEquals(1.5, back.forecast()[0]);
        assertEquals(0.25f, back.hc[5]);
        assertEquals(-2, back.driftMin);
        assertEquals(0, back.anomalies());
        assertEquals(-1, back.lastAnomalyAt());
        assertEquals(-1, back.lastControlOffset());
        assertEquals(false, back.anomalous());
        assertArrayEquals(v2, back.serialise(), "written back in the current format");
        assertEquals(KeyState.FORMAT, back.serialise()[0]);
    }

    @Test
    void shouldRoundTripTheGateFieldsOfFormat3() {
        KeyState k = new KeyState(1, 2, 64, ScoreState.initial(2));
        k.modelForecast[0] = 2.5;
        k.modelForecast[1] = -1.25;
        k.gateModelErr = 0.3;
        k.gatePersistErr = 0.7;
        k.gateEvents = 321;
        k.gateSource = KeyState.LSTM;
        k.lastAttemptRejected = true;
        k.changeMs[1] = 0.125;
        byte[] bytes = k.serialise();
        assertEquals(KeyState.FORMAT, bytes[0]);
        assertEquals(k.serialisedSize(), bytes.length);
        KeyState back = KeyState.deserialise(bytes);
        assertArrayEquals(new double[] {2.5, -1.25}, back.modelForecast);
        assertEquals(0.3, back.gateModelErr);
        assertEquals(0.7, back.gatePersistErr);
        assertEquals(321, back.gateEvents);
        assertEquals(KeyState.LSTM, back.gateSource);
        assertEquals(true, back.lastAttemptRejected, "both flags of the gate byte survive");
        assertArrayEquals(new double[] {0, 0.125}, back.changeMs);
        assertArrayEquals(bytes, back.serialise());
    }

    /** Format 2, as the previous build wrote it: the gate has no evidence yet and trusts the LSTM, as for a new key. */
    @Test
    void shouldReadFormat2WithTheGateTrustingTheLstm() {
        for (boolean fromModel : new boolean[] {true, false}) {
            KeyState k = new KeyState(1, 1, 64, ScoreState.initial(1));
            k.modelVersion = 2;
            k.count = 900;
            k.forecast[0] = 4.5;
            k.forecastSource = fromModel ? KeyState.LSTM : KeyState.PERSISTENCE;
            k.gateSource = KeyState.PERSISTENCE; // not written by format 2
            k.group = "g";
            byte[] v3 = k.serialise();
            byte[] v2 = java.util.Arrays.copyOf(v3, v3.length - KeyState.format3Extra(1) - KeyState.format4Extra(1));
            v2[0] = KeyState.FORMAT_2;
            KeyState back = KeyState.deserialise(v2);
            assertEquals(KeyState.LSTM, back.gateSource);
            assertEquals(fromModel ? 4.5 : Double.NaN, back.modelForecast[0]);
            assertEquals(Double.NaN, back.gateModelErr);
            assertEquals(Double.NaN, back.gatePersistErr);
            assertEquals("g", back.group());
            assertEquals(4.5, back.forecast()[0]);
            assertEquals(KeyState.FORMAT, back.serialise()[0]);
        }
    }
    @Test
    void shouldRoundTripTheSeasonalFieldsOfFormat4() {
        KeyState k = new KeyState(1, 2, 64, ScoreState.initial(2));
        k.season = 288;
        k.seasonalForecast[0] = 7.5;
        k.seasonalForecast[1] = -0.5;
        k.gateSeasonalErr = 0.01;
        k.gateModelErr = 0.3;
        k.gatePersistErr = 0.7;
        k.gateSource = KeyState.SEASONAL;
        k.forecastSource = KeyState.SEASONAL;
        k.lastAttemptRejected = true;
        byte[] bytes = k.serialise();
        assertEquals(4, bytes[0]);
        assertEquals(k.serialisedSize(), bytes.length);
        KeyState back = KeyState.deserialise(bytes);
        assertEquals(288, back.season);
        assertArrayEquals(new double[] {7.5, -0.5}, back.seasonalForecast);
        assertEquals(0.01, back.gateSeasonalErr);
        assertEquals(KeyState.SEASONAL, back.gateSource);
        assertEquals(KeyState.SEASONAL, back.forecastSource);
        assertEquals(true, back.lastAttemptRejected, "the gate byte's flags survive beside the seasonal bit");
        assertArrayEquals(bytes, back.serialise());
        for (byte source : new byte[] {KeyState.LSTM, KeyState.PERSISTENCE, KeyState.SMOOTHED}) {
            k.gateSource = source;
            k.forecastSource = source;
            KeyState again = KeyState.deserialise(k.serialise());
            assertEquals(source, again.gateSource);
            assertEquals(source, again.forecastSource);
            assertEquals(true, again.lastAttemptRejected);
        }
        k.smoothing = 0.26;
        k.level[1] = -3.5;
        k.gateSmoothedErr = 0.4;
        KeyState back2 = KeyState.deserialise(k.serialise());
        assertEquals(0.26, back2.smoothing);
        assertArrayEquals(new double[] {Double.NaN, -3.5}, back2.level);
        assertEquals(0.4, back2.gateSmoothedErr);
    }

    /** Format 3, as the previous build wrote it: every format 3 field as it was, and no season yet. */
    @Test
    void shouldReadFormat3WithNoSeason() {
        for (byte source : new byte[] {KeyState.LSTM, KeyState.PERSISTENCE}) {
            KeyState k = new KeyState(1, 1, 64, ScoreState.initial(1));
            k.count = 900;
            k.forecast[0] = 4.5;
            k.forecastSource = source;
            k.modelForecast[0] = 4.25;
            k.gateModelErr = 0.3;
            k.gatePersistErr = 0.7;
            k.gateEvents = 321;
            k.gateSource = source;
            k.lastAttemptRejected = true;
            k.changeMs[0] = 0.125;
            byte[] v4 = k.serialise();
            byte[] v3 = java.util.Arrays.copyOf(v4, v4.length - KeyState.format4Extra(1));
            v3[0] = KeyState.FORMAT_3;
            KeyState back = KeyState.deserialise(v3);
            assertEquals(source, back.forecastSource);
            assertEquals(source, back.gateSource);
            assertEquals(true, back.lastAttemptRejected);
            assertEquals(4.25, back.modelForecast[0]);
            assertEquals(0.3, back.gateModelErr);
            assertEquals(0.7, back.gatePersistErr);
            assertEquals(321, back.gateEvents);
            assertEquals(0.125, back.changeMs[0]);
            assertEquals(0, back.season);
            assertEquals(Double.NaN, back.seasonalForecast[0]);
            assertEquals(Double.NaN, back.gateSeasonalErr);
            assertEquals(0.0, back.smoothing);
            assertEquals(Double.NaN, back.level[0]);
            assertEquals(Double.NaN, back.gateSmoothedErr);
            assertArrayEquals(v4, back.serialise(), "written back in format 4");
        }
    }

    @Test
    void shouldRejectAnUnknownSource() {
        KeyState k = new KeyState(1, 1, 64, ScoreState.initial(1));
        k.forecastSource = KeyState.SEASONAL;
        byte[] v4 = k.serialise();
        byte[] v3 = java.util.Arrays.copyOf(v4, v4.length - KeyState.format4Extra(1));
        v3[0] = KeyState.FORMAT_3;
        assertThrows(IllegalArgumentException.class, () -> KeyState.deserialise(v3), "format 3 had no seasonal source");
    }
}
