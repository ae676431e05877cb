package io.carousel.scoring;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Everything the scorer remembers about one key: a fixed number of primitives, sized once by
 * the feature count. A state store holds this for millions of keys and rewrites it after every
 * event, so nothing here grows with the key's history: every window is an exponentially
 * weighted running estimate (one or two numbers) rather than a ring buffer of past values.
 *
 * <p>Mutable on purpose: {@link Scorer#update} changes it in place, so scoring an event allocates
 * nothing. Only {@link Scorer} writes the fields.
 *
 * <p>Serialised form, version 1, big-endian whatever the buffer's byte order:
 * <pre>
 *   byte    format version (1)
 *   short   feature count d (1..4096)
 *   int     accepted events (saturates at Integer.MAX_VALUE)
 *   byte    flags (bit 0: last event was an anomaly; bit 1: it started a new excursion)
 *   byte    tail-guard level bits (bit k: the last event was at or above guard level k)
 *   double  short-window mean of surprises
 *   double  long-run mean of that short-window mean
 *   double  long-run variance of that short-window mean
 *   double  threshold offset from feedback, in decades of tail probability
 *   double  x 8   tail-guard excursion rates, one per level
 *   d x (double error scale (mean absolute error), double last deviation)
 * </pre>
 * {@link #byteSize(int)} = 105 + 16 d bytes: 121 for one feature.
 */
public final class ScoreState {

    public static final byte FORMAT_VERSION = 1;
    public static final int MAX_FEATURES = 4096;

    static final int GUARD_LEVELS = 8;
    static final int FLAG_ANOMALY = 1;
    static final int FLAG_ALERT_START = 2;

    private static final int FIXED_BYTES = 1 + 2 + 4 + 1 + 1 + 4 * Double.BYTES
            + GUARD_LEVELS * Double.BYTES;
    private static final int PER_FEATURE_BYTES = 2 * Double.BYTES;

    int events;
    byte flags;
    byte guardAbove;
    double shortMean;
    double longMean;
    double longVar;
    double thresholdOffset;
    final double[] guardRate = new double[GUARD_LEVELS];
    /** Per feature: exponentially weighted mean absolute forecast error. */
    final double[] scale;
    /** Per feature: the last error in units of its scale (signed). */
    final double[] deviation;

    private ScoreState(int featureCount) {
        this.scale = new double[featureCount];
        this.deviation = new double[featureCount];
    }

    /** A key that has seen nothing yet. */
    public static ScoreState initial(int featureCount) {
        requireFeatureCount(featureCount);
        return new ScoreState(featureCount);
    }

    public int featureCount() {
        return scale.length;
    }

    /** Events accepted so far (rejected, non-finite inputs are not counted). */
    public int events() {
        return events;
    }

    public int byteSize() {
        return byteSize(featureCount());
    }

    public static int byteSize(int featureCount) {
        requireFeatureCount(featureCount);
        return FIXED_BYTES + PER_FEATURE_BYTES * featureCount;
    }

    /** Writes exactly {@link #byteSize()} bytes at the buffer's position, advancing it. */
    public void serialise(ByteBuffer buffer) {
        ByteOrder order = buffer.order();
        buffer.order(ByteOrder.BIG_ENDIAN);
        try {
            buffer.put(FORMAT_VERSION);
            buffer.putShort((short) featureCount());
            buffer.putInt(events);
            buffer.put(flags);
            buffer.put(guardAbove);
            buffer.putDouble(shortMean);
            buffer.putDouble(longMean);
            buffer.putDouble(longVar);
            buffer.putDouble(thresholdOffset);
            for (double rate : guardRate) {
                buffer.putDouble(rate);
            }
            for (int j = 0; j < scale.length; j++) {
                buffer.putDouble(scale[j]);
                buffer.putDouble(deviation[j]);
            }
        } finally {
            buffer.order(order);
        }
    }

    public byte[] toBytes() {
        ByteBuffer buffer = ByteBuffer.allocate(byteSize());
        serialise(buffer);
        return buffer.array();
    }

    /**
     * Reads a state written by {@link #serialise}, advancing the buffer. Rejects, with
     * IllegalArgumentException, an unknown version, a truncated buffer and any non-finite or
     * out-of-range field, so a corrupted record can never poison scores with NaN.
     */
    public static ScoreState deserialise(ByteBuffer buffer) {
        return deserialise(buffer, null);
    }

    /**
     * As {@link #deserialise(ByteBuffer)}, reading into {@code into} when it has the record's
     * feature count (every field is overwritten): a key's state is read at every event. Returns
     * {@code into} or a new state.
     */
    public static ScoreState deserialise(ByteBuffer buffer, ScoreState into) {
        ByteOrder order = buffer.order();
        buffer.order(ByteOrder.BIG_ENDIAN);
        try {
            byte version = buffer.get();
            if (version != FORMAT_VERSION) {
                throw new IllegalArgumentException("unsupported ScoreState format version "
                        + version + " (this build reads " + FORMAT_VERSION + ")");
            }
            int featureCount = Short.toUnsignedInt(buffer.getShort());
            requireFeatureCount(featureCount);
            ScoreState st = into != null && into.featureCount() == featureCount ? into : new ScoreState(featureCount);
            st.events = buffer.getInt();
            st.flags = buffer.get();
            st.guardAbove = buffer.get();
            st.shortMean = buffer.getDouble();
            st.longMean = buffer.getDouble();
            st.longVar = buffer.getDouble();
            st.thresholdOffset = buffer.getDouble();
            for (int k = 0; k < GUARD_LEVELS; k++) {
                st.guardRate[k] = buffer.getDouble();
            }
            for (int j = 0; j < featureCount; j++) {
                st.scale[j] = buffer.getDouble();
                st.deviation[j] = buffer.getDouble();
            }
            st.validate();
            return st;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated ScoreState", e);
        } finally {
            buffer.order(order);
        }
    }

    public static ScoreState fromBytes(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        ScoreState st = deserialise(buffer);
        if (buffer.hasRemaining()) {
            throw new IllegalArgumentException(
                    "ScoreState has " + buffer.remaining() + " trailing bytes");
        }
        return st;
    }

    public ScoreState copy() {
        ScoreState c = new ScoreState(featureCount());
        c.events = events;
        c.flags = flags;
        c.guardAbove = guardAbove;
        c.shortMean = shortMean;
        c.longMean = longMean;
        c.longVar = longVar;
        c.thresholdOffset = thresholdOffset;
        System.arraycopy(guardRate, 0, c.guardRate, 0, GUARD_LEVELS);
        System.arraycopy(scale, 0, c.scale, 0, scale.length);
        System.arraycopy(deviation, 0, c.deviation, 0, deviation.length);
        return c;
    }

    private void validate() {
        if (events < 0) {
            throw new IllegalArgumentException("ScoreState events must be >= 0, got " + events);
        }
        requireFinite("shortMean", shortMean);
        requireFinite("longMean", longMean);
        requireNonNegative("longVar", longVar);
        requireFinite("thresholdOffset", thresholdOffset);
        for (double rate : guardRate) {
            if (!(rate >= 0 && rate <= 1)) {
                throw new IllegalArgumentException("ScoreState guard rate out of [0,1]: " + rate);
            }
        }
        for (int j = 0; j < scale.length; j++) {
            requireNonNegative("scale", scale[j]);
            requireFinite("deviation", deviation[j]);
        }
    }

    private static void requireFinite(String field, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("ScoreState " + field + " is not finite: " + value);
        }
    }

    private static void requireNonNegative(String field, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(
                    "ScoreState " + field + " must be finite and >= 0, got " + value);
        }
    }

    private static void requireFeatureCount(int featureCount) {
        if (featureCount < 1 || featureCount > MAX_FEATURES) {
            throw new IllegalArgumentException("featureCount must be in [1, " + MAX_FEATURES
                    + "], got " + featureCount);
        }
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ScoreState s)) {
            return false;
        }
        return events == s.events && flags == s.flags && guardAbove == s.guardAbove
                && Double.compare(shortMean, s.shortMean) == 0
                && Double.compare(longMean, s.longMean) == 0
                && Double.compare(longVar, s.longVar) == 0
                && Double.compare(thresholdOffset, s.thresholdOffset) == 0
                && Arrays.equals(guardRate, s.guardRate) && Arrays.equals(scale, s.scale)
                && Arrays.equals(deviation, s.deviation);
    }

    @Override
    public int hashCode() {
        int h = Integer.hashCode(events);
        h = 31 * h + Double.hashCode(shortMean);
        h = 31 * h + Double.hashCode(longMean);
        h = 31 * h + Double.hashCode(longVar);
        h = 31 * h + Arrays.hashCode(scale);
        return h;
    }

    @Override
    public String toString() {
        return "ScoreState{features=" + featureCount() + ", events=" + events
                + ", shortMean=" + shortMean + ", longMean=" + longMean + ", longVar=" + longVar
                + ", thresholdOffset=" + thresholdOffset + ", scale=" + Arrays.toString(scale)
                + ", deviation=" + Arrays.toString(deviation) + "}";
    }
}
