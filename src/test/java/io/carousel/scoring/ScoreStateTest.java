package io.carousel.scoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ScoreStateTest {

    /** A state with every field away from its initial value. */
    private static ScoreState exercised(int features, long seed) {
        Scorer scorer = new Scorer(ScoringConfig.defaults());
        ScoreState st = ScoreState.initial(features);
        Random random = new Random(seed);
        double[] e = new double[features];
        for (int i = 0; i < 1200; i++) {
            for (int j = 0; j < features; j++) {
                e[j] = (j + 1) * random.nextGaussian() + (i == 1100 ? 40 : 0);
            }
            scorer.update(st, e);
        }
        scorer.applyFeedback(st, true);
        return st;
    }

    @Test
    void shouldHaveFixedSizePerFeatureCount() {
        assertEquals(121, ScoreState.byteSize(1));
        assertEquals(153, ScoreState.byteSize(3));
        assertEquals(105 + 16 * 4096, ScoreState.byteSize(ScoreState.MAX_FEATURES));
        for (int d : new int[] {1, 2, 7}) {
            assertEquals(ScoreState.byteSize(d), ScoreState.initial(d).toBytes().length);
            assertEquals(ScoreState.byteSize(d), exercised(d, d).toBytes().length);
        }
    }

    @Test
    void shouldRoundTripExactly() {
        for (int d : new int[] {1, 4}) {
            ScoreState st = exercised(d, 100 + d);
            byte[] bytes = st.toBytes();
            ScoreState back = ScoreState.fromBytes(bytes);
            assertEquals(st, back);
            assertArrayEquals(bytes, back.toBytes());
            assertEquals(st.events(), back.events());
            // The restored state scores the next event exactly as the original would.
            Scorer scorer = new Scorer(ScoringConfig.defaults());
            double[] next = new double[d];
            next[0] = 3.3;
            assertEquals(scorer.update(st.copy(), next), scorer.update(back, next));
        }
        ScoreState fresh = ScoreState.initial(2);
        assertEquals(fresh, ScoreState.fromBytes(fresh.toBytes()));
    }

    @Test
    void shouldReadAndWriteWithinALargerBufferWhateverItsByteOrder() {
        ScoreState a = exercised(1, 1);
        ScoreState b = exercised(3, 2);
        ByteBuffer buffer = ByteBuffer.allocate(a.byteSize() + b.byteSize() + 5)
                .order(ByteOrder.LITTLE_ENDIAN);
        buffer.position(5);
        a.serialise(buffer);
        assertEquals(5 + a.byteSize(), buffer.position());
        b.serialise(buffer);
        assertEquals(ByteOrder.LITTLE_ENDIAN, buffer.order(), "caller's byte order restored");
        buffer.flip().position(5);
        assertEquals(a, ScoreState.deserialise(buffer));
        assertEquals(b, ScoreState.deserialise(buffer));
        assertEquals(0, buffer.remaining());
        byte[] bigEndian = a.toBytes();
        byte[] written = new byte[a.byteSize()];
        buffer.position(5);
        buffer.get(written);
        assertArrayEquals(bigEndian, written, "format is big-endian in any buffer");
    }

    @Test
    void shouldPinTheVersionOneLayout() {
        byte[] bytes = ScoreState.initial(1).toBytes();
        assertEquals(1, bytes[0], "version");
        assertEquals(0, bytes[1]);
        assertEquals(1, bytes[2], "feature count, big-endian short");
        for (int i = 3; i < bytes.length; i++) {
            assertEquals(0, bytes[i], "byte " + i + " of an initial state");
        }
        ScoreState st = ScoreState.initial(1);
        st.events = 0x01020304;
        st.scale[0] = 2.0;
        ByteBuffer buffer = ByteBuffer.wrap(st.toBytes());
        assertEquals(0x01020304, buffer.getInt(3));
        assertEquals(2.0, buffer.getDouble(105), "first feature's scale after the fixed part");
    }

    @Test
    void shouldRejectUnknownVersionTruncationAndGarbage() {
        byte[] bytes = exercised(2, 3).toBytes();

        byte[] wrongVersion = bytes.clone();
        wrongVersion[0] = 2;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ScoreState.fromBytes(wrongVersion));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());

        byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 1);
        assertThrows(IllegalArgumentException.class, () -> ScoreState.fromBytes(truncated));

        byte[] trailing = java.util.Arrays.copyOf(bytes, bytes.length + 1);
        assertThrows(IllegalArgumentException.class, () -> ScoreState.fromBytes(trailing));

        byte[] nan = bytes.clone();
        ByteBuffer.wrap(nan).putDouble(9, Double.NaN); // the short-window mean
        e = assertThrows(IllegalArgumentException.class, () -> ScoreState.fromBytes(nan));
        assertTrue(e.getMessage().contains("shortMean"), e.getMessage());

        byte[] negativeScale = bytes.clone();
        ByteBuffer.wrap(negativeScale).putDouble(105, -1.0);
        assertThrows(IllegalArgumentException.class, () -> ScoreState.fromBytes(negativeScale));

        byte[] noFeatures = bytes.clone();
        noFeatures[1] = 0;
        noFeatures[2] = 0;
        e = assertThrows(IllegalArgumentException.class, () -> ScoreState.fromBytes(noFeatures));
        assertTrue(e.getMessage().contains("featureCount"), e.getMessage());
    }

    @Test
    void shouldCopyIndependently() {
        ScoreState st = exercised(2, 4);
        ScoreState copy = st.copy();
        assertEquals(st, copy);
        new Scorer(ScoringConfig.defaults()).update(copy, new double[] {1, 1});
        assertNotEquals(st, copy);
    }

    @Test
    void shouldRejectBadFeatureCounts() {
        assertThrows(IllegalArgumentException.class, () -> ScoreState.initial(0));
        assertThrows(IllegalArgumentException.class,
                () -> ScoreState.initial(ScoreState.MAX_FEATURES + 1));
    }
}
